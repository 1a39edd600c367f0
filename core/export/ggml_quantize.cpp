#include "core/export/ggml_quantize.hpp"

#include "core/util/error.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>

namespace qs::exporting {

namespace {

constexpr int kQK = 32;    // Q8_0, Q4_0, Q4_1, Q5_0
constexpr int kQK_K = 256; // k-quants super-block
constexpr float kGroupMaxEps = 1e-15f;

void putHalf(std::uint8_t* p, float v)
{
    const std::uint16_t h = f32ToF16(v);
    std::memcpy(p, &h, 2);
}

float roundTripHalf(float v)
{
    return float(Eigen::half(v));
}

void quantizeQ8_0(const float* x, std::uint8_t* y)
{
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(y, d);
    for (int j = 0; j < kQK; ++j)
        y[2 + j] = std::uint8_t(std::int8_t(std::roundf(x[j] * id)));
}

void quantizeQ4_0(const float* x, std::uint8_t* y)
{
    float amax = 0.0f, max = 0.0f; // the value of largest magnitude, with its sign
    for (int j = 0; j < kQK; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(y, d);
    for (int j = 0; j < kQK / 2; ++j) {
        // ggml truncates x*id + 8.5 toward zero through an int8 cast: round half up, clamp at 15.
        const std::uint8_t q0 = std::uint8_t(std::min(15, int(std::int8_t(x[j] * id + 8.5f))));
        const std::uint8_t q1 = std::uint8_t(std::min(15, int(std::int8_t(x[kQK / 2 + j] * id + 8.5f))));
        y[2 + j] = std::uint8_t(q0 | (q1 << 4));
    }
}

void quantizeQ4_1(const float* x, std::uint8_t* y)
{
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
        min = std::min(min, x[j]);
        max = std::max(max, x[j]);
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(y, d);
    putHalf(y + 2, min);
    for (int j = 0; j < kQK / 2; ++j) {
        const std::uint8_t q0 = std::uint8_t(std::min(15, int(std::int8_t((x[j] - min) * id + 0.5f))));
        const std::uint8_t q1 = std::uint8_t(std::min(15, int(std::int8_t((x[kQK / 2 + j] - min) * id + 0.5f))));
        y[4 + j] = std::uint8_t(q0 | (q1 << 4));
    }
}

void quantizeQ5_0(const float* x, std::uint8_t* y)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putHalf(y, d);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = std::min(31, int(std::int8_t(x[j] * id + 16.5f)));
        const int q1 = std::min(31, int(std::int8_t(x[kQK / 2 + j] * id + 16.5f)));
        y[6 + j] = std::uint8_t((q0 & 0x0F) | ((q1 & 0x0F) << 4));
        qh |= std::uint32_t((q0 & 0x10) >> 4) << j;
        qh |= std::uint32_t((q1 & 0x10) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y + 2, &qh, 4);
}

// ggml's make_qkx2_quants: an asymmetric grid [min, min + nmax*scale] for n values, the range
// searched over nstep+1 candidate scales by weighted least squares. Returns the scale; the_min
// receives -min (>= 0).
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L, float* theMin,
                     std::uint8_t* Laux, float rmin, float rdelta, int nstep)
{
    float min = x[0], max = x[0];
    float sumW = weights[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float w = weights[i];
        sumW += w;
        sumX += w * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        std::fill(L, L + n, 0);
        *theMin = -min;
        return 0.0f;
    }
    float iscale = float(nmax) / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        const int l = ggmlNearestInt(iscale * (x[i] - min));
        L[i] = std::uint8_t(std::max(0, std::min(nmax, l)));
        const float diff = scale * L[i] + min - x[i];
        bestError += weights[i] * diff * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            int l = ggmlNearestInt(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = std::uint8_t(l);
            const float w = weights[i];
            sumL += w * float(l);
            sumL2 += w * float(l) * float(l);
            sumXL += w * float(l) * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float curError = 0;
            for (int i = 0; i < n; ++i) {
                const float diff = thisScale * Laux[i] + thisMin - x[i];
                curError += weights[i] * diff * diff;
            }
            if (curError < bestError) {
                std::copy(Laux, Laux + n, L);
                bestError = curError;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

// ggml's make_qx_quants with rmse_type 1 (weights x^2) and no importance weights: a symmetric
// grid of 2*nmax levels, the scale searched over 18 candidates around nmax / max.
float makeQxQuants(int n, int nmax, const float* x, std::int8_t* L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, std::int8_t(0));
        return 0.0f;
    }
    float iscale = -float(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = ggmlNearestInt(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = std::int8_t(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * float(l);
        suml2 += w * float(l) * float(l);
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        iscale = -(float(nmax) + 0.1f * float(is)) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = ggmlNearestInt(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * float(l);
            suml2 += w * float(l) * float(l);
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = ggmlNearestInt(iscale * x[i]);
                L[i] = std::int8_t(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// The 6-bit scale and min of sub-block j from Q4_K's 12 scale bytes (ggml's get_scale_min_k4).
void scaleMinK4(int j, const std::uint8_t* q, std::uint8_t& d, std::uint8_t& m)
{
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = std::uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = std::uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// block_q4_K: d, dmin (f16), scales[12], qs[128].
void quantizeQ4_K(const float* x, std::uint8_t* y)
{
    std::uint8_t L[kQK_K], Laux[32];
    float weights[32], mins[kQK_K / 32], scales[kQK_K / 32];
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < kQK_K / 32; ++j) {
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += x[32 * j + l] * x[32 * j + l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[l] = avX + std::fabs(x[32 * j + l]);
        scales[j] = makeQkx2Quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.0f, 0.1f, 20);
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    const float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
    const float invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
    std::uint8_t* sc = y + 4;
    std::memset(sc, 0, 12);
    for (int j = 0; j < kQK_K / 32; ++j) {
        const std::uint8_t ls = std::uint8_t(std::min(63, ggmlNearestInt(invScale * scales[j])));
        const std::uint8_t lm = std::uint8_t(std::min(63, ggmlNearestInt(invMin * mins[j])));
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = std::uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= std::uint8_t((ls >> 4) << 6);
            sc[j] |= std::uint8_t((lm >> 4) << 6);
        }
    }
    putHalf(y, maxScale / 63.0f);
    putHalf(y + 2, maxMin / 63.0f);
    const float dAll = roundTripHalf(maxScale / 63.0f), minAll = roundTripHalf(maxMin / 63.0f);
    for (int j = 0; j < kQK_K / 32; ++j) {
        std::uint8_t s, m;
        scaleMinK4(j, sc, s, m);
        const float d = dAll * float(s);
        if (d == 0.0f)
            continue;
        const float dm = minAll * float(m);
        for (int ii = 0; ii < 32; ++ii) {
            const int l = ggmlNearestInt((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = std::uint8_t(std::max(0, std::min(15, l)));
        }
    }
    std::uint8_t* q = y + 16;
    for (int j = 0; j < kQK_K; j += 64) {
        for (int l = 0; l < 32; ++l)
            q[l] = std::uint8_t(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

// block_q6_K: ql[128], qh[64], int8 scales[16], f16 d.
void quantizeQ6_K(const float* x, std::uint8_t* y)
{
    std::int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float maxScale = 0, maxAbsScale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
        const float scale = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
        scales[ib] = scale;
        if (std::fabs(scale) > maxAbsScale) {
            maxAbsScale = std::fabs(scale);
            maxScale = scale;
        }
    }
    std::uint8_t* ql = y;
    std::uint8_t* qh = y + 128;
    auto* sc = reinterpret_cast<std::int8_t*>(y + 192);
    if (maxAbsScale < kGroupMaxEps) {
        std::memset(y, 0, 210);
        return;
    }
    const float iscale = -128.0f / maxScale;
    putHalf(y + 208, 1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
        sc[ib] = std::int8_t(std::min(127, ggmlNearestInt(iscale * scales[ib])));
    const float dAll = roundTripHalf(1 / iscale);
    for (int j = 0; j < kQK_K / 16; ++j) {
        const float d = dAll * float(sc[j]);
        if (d == 0.0f)
            continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = ggmlNearestInt(x[16 * j + ii] / d);
            l = std::max(-32, std::min(31, l));
            L[16 * j + ii] = std::int8_t(l + 32);
        }
    }
    for (int j = 0; j < kQK_K; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const std::uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
            const std::uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l] = std::uint8_t(q1 | (q3 << 4));
            ql[l + 32] = std::uint8_t(q2 | (q4 << 4));
            qh[l] = std::uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                 ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

} // namespace

std::string_view ggmlTypeName(GgmlType t)
{
    switch (t) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::BF16: return "BF16";
    case GgmlType::Q4_0: return "Q4_0";
    case GgmlType::Q4_1: return "Q4_1";
    case GgmlType::Q5_0: return "Q5_0";
    case GgmlType::Q8_0: return "Q8_0";
    case GgmlType::Q4_K: return "Q4_K";
    case GgmlType::Q6_K: return "Q6_K";
    }
    return "?";
}

int ggmlBlockElements(GgmlType t)
{
    switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: return 1;
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q8_0: return kQK;
    case GgmlType::Q4_K: case GgmlType::Q6_K: return kQK_K;
    }
    return 1;
}

int ggmlBlockBytes(GgmlType t)
{
    switch (t) {
    case GgmlType::F32: return 4;
    case GgmlType::F16: case GgmlType::BF16: return 2;
    case GgmlType::Q4_0: return 18;
    case GgmlType::Q4_1: return 20;
    case GgmlType::Q5_0: return 22;
    case GgmlType::Q8_0: return 34;
    case GgmlType::Q4_K: return 144;
    case GgmlType::Q6_K: return 210;
    }
    return 0;
}

std::size_t ggmlRowBytes(GgmlType t, std::int64_t cols)
{
    const int e = ggmlBlockElements(t);
    if (cols < 0 || cols % e != 0)
        throw Error("ggml " + std::string(ggmlTypeName(t)) + ": a row of " + std::to_string(cols) +
                    " values is not a whole number of blocks of " + std::to_string(e));
    return std::size_t(cols / e) * std::size_t(ggmlBlockBytes(t));
}

std::uint16_t f32ToF16(float v)
{
    return Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(v));
}

std::uint16_t f32ToBf16(float v)
{
    return Eigen::numext::bit_cast<std::uint16_t>(Eigen::bfloat16(v));
}

int ggmlNearestInt(float v)
{
    const float shifted = v + 12582912.0f; // 1.5 * 2^23: the float's mantissa then holds round(v)
    std::int32_t i;
    std::memcpy(&i, &shifted, 4);
    return (i & 0x007fffff) - 0x00400000;
}

namespace {

// Blocks [0, x.size() / elements) of x into out, one after another (sizes already checked).
void quantizeBlocks(GgmlType t, std::span<const float> x, std::span<std::uint8_t> out)
{
    const std::size_t e = std::size_t(ggmlBlockElements(t)), b = std::size_t(ggmlBlockBytes(t));
    const std::size_t blocks = x.size() / e;
    for (std::size_t i = 0; i < blocks; ++i) {
        const float* src = x.data() + i * e;
        std::uint8_t* dst = out.data() + i * b;
        switch (t) {
        case GgmlType::F32: std::memcpy(dst, src, 4); break;
        case GgmlType::F16: {
            const std::uint16_t h = f32ToF16(*src);
            std::memcpy(dst, &h, 2);
            break;
        }
        case GgmlType::BF16: {
            const std::uint16_t h = f32ToBf16(*src);
            std::memcpy(dst, &h, 2);
            break;
        }
        case GgmlType::Q8_0: quantizeQ8_0(src, dst); break;
        case GgmlType::Q4_0: quantizeQ4_0(src, dst); break;
        case GgmlType::Q4_1: quantizeQ4_1(src, dst); break;
        case GgmlType::Q5_0: quantizeQ5_0(src, dst); break;
        case GgmlType::Q4_K: quantizeQ4_K(src, dst); break;
        case GgmlType::Q6_K: quantizeQ6_K(src, dst); break;
        }
    }
}

} // namespace

void quantizeRow(GgmlType t, std::span<const float> x, std::span<std::uint8_t> out)
{
    const std::size_t bytes = ggmlRowBytes(t, std::int64_t(x.size()));
    if (out.size() != bytes)
        throw Error("ggml " + std::string(ggmlTypeName(t)) + ": output of " + std::to_string(out.size()) +
                    " bytes for " + std::to_string(x.size()) + " values, expected " + std::to_string(bytes));
    const std::size_t e = std::size_t(ggmlBlockElements(t)), b = std::size_t(ggmlBlockBytes(t));
    const std::size_t blocks = x.size() / e;
    // Blocks are independent: large tensors are split over threads (the same bytes in any split).
    const std::size_t threads = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), 8);
    if (threads < 2 || x.size() < (std::size_t(1) << 20)) {
        quantizeBlocks(t, x, out);
        return;
    }
    std::vector<std::thread> pool;
    const std::size_t per = (blocks + threads - 1) / threads;
    for (std::size_t first = 0; first < blocks; first += per) {
        const std::size_t count = std::min(per, blocks - first);
        pool.emplace_back([=] { quantizeBlocks(t, x.subspan(first * e, count * e), out.subspan(first * b, count * b)); });
    }
    for (auto& th : pool)
        th.join();
}

std::vector<std::uint8_t> quantizeRows(GgmlType t, std::span<const float> x)
{
    std::vector<std::uint8_t> out(ggmlRowBytes(t, std::int64_t(x.size())));
    quantizeRow(t, x, out);
    return out;
}

} // namespace qs::exporting
