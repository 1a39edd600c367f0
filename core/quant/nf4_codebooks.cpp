#include "core/quant/nf4_codebooks.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

const std::array<float, 15> kNf4Thresholds = {
    -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
    -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
    0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
    0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

std::uint8_t nf4Code(float x)
{
    // The kernel's decision tree returns the number of thresholds x strictly exceeds; a
    // comparison with NaN is false, so NaN gets code 0 there and here.
    std::uint8_t code = 0;
    for (float t : kNf4Thresholds)
        code += x > t ? 1 : 0;
    return code;
}

// Float division as torch does `data / data.abs().max()` on a float32 tensor.
const std::array<float, 16> kFp4Levels = {
    0.0f / 12.0f,  0.0625f / 12.0f,  8.0f / 12.0f,  12.0f / 12.0f,  4.0f / 12.0f,  6.0f / 12.0f,  2.0f / 12.0f,  3.0f / 12.0f,
    -0.0f / 12.0f, -0.0625f / 12.0f, -8.0f / 12.0f, -12.0f / 12.0f, -4.0f / 12.0f, -6.0f / 12.0f, -2.0f / 12.0f, -3.0f / 12.0f};

std::uint8_t fp4Code(float x)
{
    // dQuantizeFP4's tree; its pivots are the midpoints of the magnitudes above, written as the
    // kernel writes them (0.583333f, not 7/12 to full precision).
    const std::uint8_t sign = x < 0 ? 0b1000 : 0;
    const float a = std::fabs(x);
    if (a > 0.29166667f) {
        if (a > 0.583333f)
            return std::uint8_t((a > 0.8333333f ? 0b0011 : 0b0010) + sign);
        return std::uint8_t((a > 0.4166667f ? 0b0101 : 0b0100) + sign);
    }
    if (a > 0.0859375f)
        return std::uint8_t((a > 0.20833333f ? 0b0111 : 0b0110) + sign);
    return std::uint8_t((a > 0.00260417f ? 0b0001 : 0b0000) + sign);
}

namespace {

// torch.linspace(start, end, steps) in float32: the step in float, the first half counted up
// from start and the second half down from end, each point one fused multiply-add (torch's
// kernel is built so; with separate roundings 21 of the 256 map values come out one ulp off
// the map bitsandbytes prints).
void linspaceF32(float start, float end, int steps, float* out)
{
    const float step = (end - start) / float(steps - 1);
    const int halfway = steps / 2;
    for (int i = 0; i < steps; ++i)
        out[i] = i < halfway ? std::fma(step, float(i), start) : std::fma(-step, float(steps - i - 1), end);
}

std::array<float, 256> buildDynamicMap()
{
    // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i the
    // means of 2^i + 1 linspace(0.1, 1) boundaries, scaled by 10^(i - 6), with both signs;
    // then 0 and 1.0 (no extra items: 2^(7-7) - 1 = 0); sorted.
    std::array<float, 256> map{};
    int n = 0;
    float bounds[65];
    for (int i = 0; i < 7; ++i) {
        const int items = (1 << i) + 1;
        linspaceF32(0.1f, 1.0f, items, bounds);
        const float scale = float(std::pow(10.0, double(i - 6))); // the python scalar, cast to float by torch
        for (int j = 0; j + 1 < items; ++j) {
            volatile float sum = bounds[j] + bounds[j + 1];
            const float mean = sum / 2.0f;
            volatile float v = scale * mean;
            map[std::size_t(n++)] = v;
            map[std::size_t(n++)] = -v;
        }
    }
    map[std::size_t(n++)] = 0.0f;
    map[std::size_t(n++)] = 1.0f;
    std::sort(map.begin(), map.end());
    return map;
}

} // namespace

const std::array<float, 256>& dynamicMap8Bit()
{
    static const std::array<float, 256> map = buildDynamicMap();
    return map;
}

std::uint8_t dynamicCode(const std::array<float, 256>& map, float x)
{
    int pivot = 127, upperPivot = 255, lowerPivot = 0;
    float lower = -1.0f, upper = 1.0f;
    float val = map[std::size_t(pivot)];
    for (int i = 64; i > 0; i >>= 1) {
        if (x > val) {
            lowerPivot = pivot;
            lower = val;
            pivot += i;
        } else {
            upperPivot = pivot;
            upper = val;
            pivot -= i;
        }
        val = map[std::size_t(pivot)];
    }
    if (upperPivot == 255)
        upper = map[255];
    if (lowerPivot == 0)
        lower = map[0];
    if (x > val) {
        const float mid = (upper + val) * 0.5f;
        return std::uint8_t(x > mid ? upperPivot : pivot);
    }
    const float mid = (lower + val) * 0.5f;
    return std::uint8_t(x < mid ? lowerPivot : pivot);
}

} // namespace qs::quant
