#include "core/compute/cpu/dequant.hpp"

#include "core/tensor/dtype.hpp"

#include <cstring>

namespace qs::compute {
namespace {

float f16At(const std::uint8_t* p) { return halfToF32(std::uint16_t(p[0] | (p[1] << 8))); }

// ggml's get_scale_min_k4: 6-bit scales and mins packed in 12 bytes.
void scaleMinK4(int j, const std::uint8_t* q, int& sc, int& m)
{
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// One ggml block to `elements` floats (ggml's dequantize_row_* reference code).
void ggufBlock(GgufBlockType t, const std::uint8_t* b, float* y)
{
    switch (t) {
    case GgufBlockType::Q8_0: {
        const float d = f16At(b);
        for (int j = 0; j < 32; ++j)
            y[j] = float(std::int8_t(b[2 + j])) * d;
        break;
    }
    case GgufBlockType::Q4_0: {
        const float d = f16At(b);
        for (int j = 0; j < 16; ++j) {
            y[j] = float((b[2 + j] & 0xF) - 8) * d;
            y[j + 16] = float((b[2 + j] >> 4) - 8) * d;
        }
        break;
    }
    case GgufBlockType::Q4_1: {
        const float d = f16At(b), m = f16At(b + 2);
        for (int j = 0; j < 16; ++j) {
            y[j] = float(b[4 + j] & 0xF) * d + m;
            y[j + 16] = float(b[4 + j] >> 4) * d + m;
        }
        break;
    }
    case GgufBlockType::Q4_K: {
        const float d = f16At(b), dmin = f16At(b + 2);
        const std::uint8_t* scales = b + 4;
        const std::uint8_t* q = b + 16;
        for (int c = 0; c < 4; ++c) {
            int sc, m;
            scaleMinK4(2 * c, scales, sc, m);
            const float d1 = d * float(sc), m1 = dmin * float(m);
            scaleMinK4(2 * c + 1, scales, sc, m);
            const float d2 = d * float(sc), m2 = dmin * float(m);
            for (int l = 0; l < 32; ++l) {
                y[64 * c + l] = d1 * float(q[32 * c + l] & 0xF) - m1;
                y[64 * c + 32 + l] = d2 * float(q[32 * c + l] >> 4) - m2;
            }
        }
        break;
    }
    case GgufBlockType::Q6_K: {
        const std::uint8_t* ql = b;
        const std::uint8_t* qh = b + 128;
        const std::int8_t* sc = reinterpret_cast<const std::int8_t*>(b + 192);
        const float d = f16At(b + 208);
        for (int half = 0; half < 2; ++half) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * float(sc[is]) * float(q1);
                y[l + 32] = d * float(sc[is + 2]) * float(q2);
                y[l + 64] = d * float(sc[is + 4]) * float(q3);
                y[l + 96] = d * float(sc[is + 6]) * float(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
        break;
    }
    }
}

struct RowDecoder {
    int n0, n1;
    float* out;

    void operator()(const DenseHalf& m) const
    {
        for (std::size_t i = std::size_t(n0) * m.k, o = 0; i < std::size_t(n1) * m.k; ++i, ++o)
            out[o] = m.bf16 ? bfloat16ToF32(m.bits[i]) : halfToF32(m.bits[i]);
    }
    void operator()(const Int8PerChannel& m) const
    {
        for (int n = n0; n < n1; ++n)
            for (int k = 0; k < m.k; ++k)
                out[std::size_t(n - n0) * m.k + k] = float(m.q[std::size_t(n) * m.k + k]) * m.scale[std::size_t(n)];
    }
    void operator()(const IntGroupwise& m) const
    {
        const std::size_t wordsPerRow = std::size_t(m.k) * m.bits / 32;
        const float mid = float(1 << (m.bits - 1));
        for (int n = n0; n < n1; ++n) {
            const std::uint32_t* row = m.codes.data() + std::size_t(n) * wordsPerRow;
            for (int k = 0; k < m.k; ++k) {
                const int g = m.gIdx.empty() ? k / m.groupSize : m.gIdx[std::size_t(k)];
                const std::size_t gi = std::size_t(n) * m.groups() + std::size_t(g);
                const float zero = m.symmetric ? mid : m.zeros[gi];
                out[std::size_t(n - n0) * m.k + k] = (float(packedCode(row, std::size_t(k), m.bits)) - zero) * m.scales[gi];
            }
        }
    }
    void operator()(const Nf4& m) const
    {
        for (int n = n0; n < n1; ++n) {
            const std::uint32_t* row = m.codes.data() + std::size_t(n) * (std::size_t(m.k) / 8);
            for (int k = 0; k < m.k; ++k) {
                const std::size_t b = (std::size_t(n) * m.k + std::size_t(k)) / Nf4::kBlockSize;
                const float absmax = m.doubleQuant
                    ? m.absmaxCodebook[m.absmaxCodes[b]] * m.absmaxScale[b / Nf4::kDoubleQuantBlock] + m.absmaxOffset
                    : m.absmax[b];
                out[std::size_t(n - n0) * m.k + k] = kNf4Levels[packedCode(row, std::size_t(k), 4)] * absmax;
            }
        }
    }
    void operator()(const GgufBlocks& m) const
    {
        const auto info = ggufBlockInfo(m.type);
        const std::size_t blocksPerRow = std::size_t(m.k) / info.elements;
        for (int n = n0; n < n1; ++n)
            for (std::size_t b = 0; b < blocksPerRow; ++b)
                ggufBlock(m.type, m.raw.data() + (std::size_t(n) * blocksPerRow + b) * info.bytes,
                          out + std::size_t(n - n0) * m.k + b * info.elements);
    }
};

} // namespace

void dequantRows(const WeightMatrix& w, int n0, int n1, float* out)
{
    std::visit(RowDecoder{n0, n1, out}, w);
}

} // namespace qs::compute
