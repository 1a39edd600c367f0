#pragma once
// ||a - ref|| / ||ref|| over n values: how the kernels are checked against their CPU twins
// (the benchmark's error column, the backend's run-time check of gemv_mma.comp). Infinity where
// a holds NaN or ref is all zeros and a is not.
#include <cmath>
#include <cstddef>

namespace qs::compute {

inline double normalizedError(const float* a, const float* ref, std::size_t n)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = double(a[i]) - double(ref[i]);
        if (std::isnan(d))
            return INFINITY;
        num += d * d;
        den += double(ref[i]) * ref[i];
    }
    return den > 0 ? std::sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

} // namespace qs::compute
