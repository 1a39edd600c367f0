#include "core/tensor/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

Histogram uniformHistogram(std::span<const float> values, double lo, double hi, int bins)
{
    bins = std::max(bins, 1);
    Histogram h;
    h.counts.assign(static_cast<std::size_t>(bins), 0);
    h.edges.resize(static_cast<std::size_t>(bins) + 1);
    if (!(hi > lo))
        hi = lo + 1.0; // all values equal: one meaningful bin
    const double width = (hi - lo) / bins;
    for (int i = 0; i <= bins; ++i)
        h.edges[static_cast<std::size_t>(i)] = lo + width * i;
    h.edges.back() = hi;
    for (float v : values) {
        if (!std::isfinite(v))
            continue;
        auto b = static_cast<long long>(std::floor((v - lo) / width));
        b = std::clamp<long long>(b, 0, bins - 1);
        ++h.counts[static_cast<std::size_t>(b)];
    }
    return h;
}

TensorStats computeStats(std::span<const float> values, int bins)
{
    TensorStats s;
    double sum = 0;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (float v : values) {
        if (!std::isfinite(v)) {
            ++s.nonFinite;
            continue;
        }
        ++s.count;
        sum += v;
        lo = std::min(lo, double(v));
        hi = std::max(hi, double(v));
    }
    if (s.count == 0) {
        s.histogram = uniformHistogram({}, 0.0, 1.0, bins);
        return s;
    }
    s.min = lo;
    s.max = hi;
    s.absmax = std::max(std::abs(lo), std::abs(hi));
    s.mean = sum / double(s.count);

    double m2 = 0, m4 = 0;
    for (float v : values) {
        if (!std::isfinite(v))
            continue;
        const double d = v - s.mean;
        const double d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= double(s.count);
    m4 /= double(s.count);
    s.std = std::sqrt(m2);
    s.kurtosis = m2 > 0 ? m4 / (m2 * m2) : 0.0;
    if (s.std > 0) {
        const double limit = 6.0 * s.std;
        for (float v : values)
            if (std::isfinite(v) && std::abs(v - s.mean) > limit)
                ++s.beyond6Sigma;
    }
    s.histogram = uniformHistogram(values, s.min, s.max, bins);
    return s;
}

} // namespace qs
