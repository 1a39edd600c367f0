#include "core/quant/absmax_int8.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

compute::Int8PerChannel quantizeAbsmaxInt8(const runtime::Mat& w, bool perTensor)
{
    compute::Int8PerChannel q;
    q.n = int(w.rows());
    q.k = int(w.cols());
    q.q.resize(std::size_t(w.size()));
    q.scale.resize(std::size_t(q.n));
    const float tensorMax = perTensor ? w.cwiseAbs().maxCoeff() : 0.0f;
    for (int r = 0; r < q.n; ++r) {
        const float m = perTensor ? tensorMax : w.row(r).cwiseAbs().maxCoeff();
        const float scale = m > 0.0f ? m / 127.0f : 1.0f;
        q.scale[std::size_t(r)] = scale;
        for (int c = 0; c < q.k; ++c) {
            const float code = std::clamp(std::nearbyint(w(r, c) / scale), -127.0f, 127.0f);
            q.q[std::size_t(r) * std::size_t(q.k) + std::size_t(c)] = std::int8_t(code);
        }
    }
    return q;
}

} // namespace qs::quant
