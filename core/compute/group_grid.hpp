#pragma once
// The scalar rule of the group-wise integer grid (GPTQ's Quantizer.find_params, AutoAWQ's
// pseudo_quantize), shared by quant/groupwise (RTN, GPTQ, AWQ) and the compute backends' AWQ clip
// search so that every path rounds the same way. See quant/groupwise.hpp for the formulas.
#include <algorithm>
#include <cmath>

namespace qs::compute {

// Scale and zero (in code units) of a group whose values span [lo, hi] (lo <= 0 <= hi).
// symmetric: s = 2 max(-lo, hi) / maxq, zero = (maxq + 1) / 2; asymmetric: s = (hi - lo) / maxq,
// zero = round(-lo / s). A zero range gets [-1, 1].
inline void groupGridParams(float lo, float hi, int bits, bool symmetric, float& scale, float& zero)
{
    const int maxq = (1 << bits) - 1;
    if (symmetric) {
        const float a = std::max(-lo, hi);
        lo = a > 0 ? -a : -1.0f;
        hi = a > 0 ? a : 1.0f;
        scale = (hi - lo) / float(maxq);
        zero = float((maxq + 1) / 2);
        return;
    }
    if (lo == 0.0f && hi == 0.0f) {
        lo = -1.0f;
        hi = 1.0f;
    }
    scale = (hi - lo) / float(maxq);
    zero = std::nearbyint(-lo / scale);
}

inline float groupGridCode(float w, float scale, float zero, int maxq)
{
    const float q = std::nearbyint(w / scale) + zero;
    return q < 0.0f ? 0.0f : (q > float(maxq) ? float(maxq) : q);
}

inline float groupGridValue(float q, float scale, float zero) { return (q - zero) * scale; }

} // namespace qs::compute
