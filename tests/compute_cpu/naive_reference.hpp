#pragma once
// Naive double-precision twins of the CPU backend, written element by element from the format
// definitions (independently of core/compute/cpu/dequant.cpp), so the reference is itself checked.
#include "core/compute/weight_formats.hpp"
#include "core/tensor/dtype.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace qs::test {

using namespace qs::compute;

// Bit-by-bit read of code k from a row's little-endian bit stream.
inline std::uint32_t naiveCode(const std::uint32_t* row, std::size_t k, int bits)
{
    std::uint32_t v = 0;
    for (int b = 0; b < bits; ++b) {
        const std::size_t bit = k * std::size_t(bits) + std::size_t(b);
        v |= ((row[bit / 32] >> (bit % 32)) & 1u) << b;
    }
    return v;
}

inline double naiveHalf(const std::uint8_t* p) { return double(halfToF32(std::uint16_t(p[0] | (p[1] << 8)))); }

inline double naiveGguf(const GgufBlocks& w, int n, int k)
{
    const auto info = ggufBlockInfo(w.type);
    const std::uint8_t* b = w.raw.data() + (std::size_t(n) * (w.k / info.elements) + std::size_t(k / info.elements)) * info.bytes;
    const int e = k % info.elements;
    switch (w.type) {
    case GgufBlockType::Q8_0: return naiveHalf(b) * double(std::int8_t(b[2 + e]));
    case GgufBlockType::Q4_0: return naiveHalf(b) * ((e < 16 ? (b[2 + e] & 15) : (b[2 + e - 16] >> 4)) - 8.0);
    case GgufBlockType::Q4_1: return naiveHalf(b) * (e < 16 ? (b[4 + e] & 15) : (b[4 + e - 16] >> 4)) + naiveHalf(b + 2);
    case GgufBlockType::Q4_K: {
        const int c = e / 64, hi = (e % 64) / 32, l = e % 32, j = 2 * c + hi;
        const std::uint8_t* s = b + 4;
        const int q = hi ? (b[16 + 32 * c + l] >> 4) : (b[16 + 32 * c + l] & 15);
        const int sc = j < 4 ? (s[j] & 63) : ((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
        const int mn = j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        return naiveHalf(b) * sc * q - naiveHalf(b + 2) * mn;
    }
    case GgufBlockType::Q6_K: {
        const int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
        const std::uint8_t qlb = b[64 * half + l + 32 * (quarter & 1)];
        const int low = quarter < 2 ? (qlb & 15) : (qlb >> 4);
        const int high = (b[128 + 32 * half + l] >> (2 * quarter)) & 3;
        const int sc = std::int8_t(b[192 + 8 * half + l / 16 + 2 * quarter]);
        return naiveHalf(b + 208) * sc * ((low | (high << 4)) - 32);
    }
    }
    return NAN;
}

inline double naiveWeight(const WeightMatrix& wm, int n, int k)
{
    if (auto* w = std::get_if<DenseHalf>(&wm)) {
        const auto bits = w->bits[std::size_t(n) * w->k + k];
        return w->bf16 ? double(bfloat16ToF32(bits)) : double(halfToF32(bits));
    }
    if (auto* w = std::get_if<Int8PerChannel>(&wm))
        return double(w->q[std::size_t(n) * w->k + k]) * w->scale[std::size_t(n)];
    if (auto* w = std::get_if<IntGroupwise>(&wm)) {
        const int g = w->gIdx.empty() ? k / w->groupSize : w->gIdx[std::size_t(k)];
        const std::size_t gi = std::size_t(n) * (w->k / w->groupSize) + std::size_t(g);
        const double zero = w->symmetric ? std::pow(2.0, w->bits - 1) : w->zeros[gi];
        const auto* row = w->codes.data() + std::size_t(n) * w->k * w->bits / 32;
        return (naiveCode(row, std::size_t(k), w->bits) - zero) * w->scales[gi];
    }
    if (auto* w = std::get_if<Nf4>(&wm)) {
        const std::size_t b = (std::size_t(n) * w->k + std::size_t(k)) / 64;
        const double absmax = w->doubleQuant
            ? double(w->absmaxCodebook[w->absmaxCodes[b]]) * w->absmaxScale[b / 256] + w->absmaxOffset
            : double(w->absmax[b]);
        return kNf4Levels[naiveCode(w->codes.data() + std::size_t(n) * w->k / 8, std::size_t(k), 4)] * absmax;
    }
    return naiveGguf(std::get<GgufBlocks>(wm), n, k);
}

// y[m][n] in double.
inline std::vector<double> naiveGemm(const std::vector<float>& x, int m, const WeightMatrix& w)
{
    const int n = rowsOf(w), k = colsOf(w);
    std::vector<double> wd(std::size_t(n) * k);
    for (int r = 0; r < n; ++r)
        for (int c = 0; c < k; ++c)
            wd[std::size_t(r) * k + c] = naiveWeight(w, r, c);
    std::vector<double> y(std::size_t(m) * n, 0.0);
    for (int i = 0; i < m; ++i)
        for (int r = 0; r < n; ++r) {
            double s = 0;
            for (int c = 0; c < k; ++c)
                s += double(x[std::size_t(i) * k + c]) * wd[std::size_t(r) * k + c];
            y[std::size_t(i) * n + r] = s;
        }
    return y;
}

// ||a - ref|| / ||ref||; NaN anywhere gives infinity.
template <typename A, typename B>
double normalizedError(const A& a, const B& ref)
{
    if (a.size() != ref.size())
        return INFINITY;
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - double(ref[i]);
        if (std::isnan(d))
            return INFINITY;
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return den > 0 ? std::sqrt(num / den) : (num == 0 ? 0.0 : INFINITY);
}

} // namespace qs::test
