#include "core/io/gguf_dequant.hpp"

#include "core/io/gguf_types.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <cstring>
#include <string>

namespace qs::io {

namespace {

// Field readers for unaligned little-endian bytes inside a block.
inline float f16At(const std::uint8_t* p)
{
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToF32(h);
}

template <typename T>
inline T at(const std::uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

// Q4_0: d, 16 bytes of nibbles; element j is the low nibble of qs[j], element j+16 the high.
void q4_0(const std::uint8_t* b, float* y)
{
    const float d = f16At(b);
    const std::uint8_t* qs = b + 2;
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
        y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
}

// Q4_1: d, m, nibbles as Q4_0; x = d*q + m.
void q4_1(const std::uint8_t* b, float* y)
{
    const float d = f16At(b), m = f16At(b + 2);
    const std::uint8_t* qs = b + 4;
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>(qs[j] & 0x0f) + m;
        y[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
    }
}

// Q5_0: d, 32 high bits (bit i belongs to element i), nibbles as Q4_0; x = d*(q-16).
void q5_0(const std::uint8_t* b, float* y)
{
    const float d = f16At(b);
    const auto qh = at<std::uint32_t>(b + 2);
    const std::uint8_t* qs = b + 6;
    for (int j = 0; j < 16; ++j) {
        const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
        const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
        y[j] = d * static_cast<float>(((qs[j] & 0x0f) | h0) - 16);
        y[j + 16] = d * static_cast<float>(((qs[j] >> 4) | h1) - 16);
    }
}

// Q5_1: d, m, high bits, nibbles; x = d*q + m.
void q5_1(const std::uint8_t* b, float* y)
{
    const float d = f16At(b), m = f16At(b + 2);
    const auto qh = at<std::uint32_t>(b + 4);
    const std::uint8_t* qs = b + 8;
    for (int j = 0; j < 16; ++j) {
        const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
        const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
        y[j] = d * static_cast<float>((qs[j] & 0x0f) | h0) + m;
        y[j + 16] = d * static_cast<float>((qs[j] >> 4) | h1) + m;
    }
}

// Q8_0: d, 32 signed bytes.
void q8_0(const std::uint8_t* b, float* y)
{
    const float d = f16At(b);
    for (int j = 0; j < 32; ++j)
        y[j] = d * static_cast<float>(static_cast<std::int8_t>(b[2 + j]));
}

// Q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2-bit), d, dmin.
void q2_K(const std::uint8_t* b, float* y)
{
    const std::uint8_t* scales = b;
    const std::uint8_t* q = b + 16;
    const float d = f16At(b + 80), dmin = f16At(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128) {
        for (int shift = 0; shift < 8; shift += 2) {
            for (int half = 0; half < 2; ++half) {
                const std::uint8_t sc = scales[is++];
                const float dl = d * static_cast<float>(sc & 0x0f), ml = dmin * static_cast<float>(sc >> 4);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
            }
        }
        q += 32;
    }
}

// Q3_K: hmask[32], qs[64], scales[12] (16 six-bit scales, bias 32), d. The high bit clear
// means subtract 4.
void q3_K(const std::uint8_t* b, float* y)
{
    const std::uint8_t* hm = b;
    const std::uint8_t* q = b + 32;
    const std::uint8_t* packed = b + 96;
    const float dAll = f16At(b + 108);

    // Unpack 16 six-bit scales: low 4 bits from bytes 0..7 (low then high nibbles), high 2
    // bits from bytes 8..11, two bits per scale group of four.
    int scales[16];
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? (packed[j] & 0x0f) : (packed[j - 8] >> 4);
        const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        scales[j] = (low | (high << 4)) - 32;
    }
    int is = 0;
    std::uint8_t m = 1;
    for (int n = 0; n < 256; n += 128) {
        for (int shift = 0; shift < 8; shift += 2) {
            for (int half = 0; half < 2; ++half) {
                const float dl = dAll * static_cast<float>(scales[is++]);
                for (int l = 0; l < 16; ++l) {
                    const int idx = l + 16 * half;
                    const int v = ((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4);
                    *y++ = dl * static_cast<float>(v);
                }
            }
            m = static_cast<std::uint8_t>(m << 1);
        }
        q += 32;
    }
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
inline void scaleMinK4(int j, const std::uint8_t* q, int& sc, int& mn)
{
    if (j < 4) {
        sc = q[j] & 63;
        mn = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K: d, dmin, scales[12], qs[128]; 8 sub-blocks of 32; x = d*sc*q - dmin*m.
void q4_K(const std::uint8_t* b, float* y)
{
    const float d = f16At(b), dmin = f16At(b + 2);
    const std::uint8_t* scales = b + 4;
    const std::uint8_t* q = b + 16;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        int sc, mn;
        scaleMinK4(is, scales, sc, mn);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
        scaleMinK4(is + 1, scales, sc, mn);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
}

// Q5_K: as Q4_K plus qh[32]: bit k of qh[l] is the fifth bit of element l of sub-block k.
void q5_K(const std::uint8_t* b, float* y)
{
    const float d = f16At(b), dmin = f16At(b + 2);
    const std::uint8_t* scales = b + 4;
    const std::uint8_t* qh = b + 16;
    const std::uint8_t* ql = b + 48;
    std::uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32) {
        int sc, mn;
        scaleMinK4(is, scales, sc, mn);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
        scaleMinK4(is + 1, scales, sc, mn);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        u1 = static_cast<std::uint8_t>(u1 << 2);
        u2 = static_cast<std::uint8_t>(u2 << 2);
    }
}

// Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], d; x = d*sc*(q-32).
void q6_K(const std::uint8_t* b, float* y)
{
    const std::uint8_t* ql = b;
    const std::uint8_t* qh = b + 128;
    const auto* sc = reinterpret_cast<const std::int8_t*>(b + 192);
    const float d = f16At(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
            y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
            y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
            y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

using BlockDecoder = void (*)(const std::uint8_t*, float*);

void f32(const std::uint8_t* b, float* y) { std::memcpy(y, b, 4); }
void f16(const std::uint8_t* b, float* y) { *y = f16At(b); }
void bf16(const std::uint8_t* b, float* y) { *y = bfloat16ToF32(at<std::uint16_t>(b)); }
void f64(const std::uint8_t* b, float* y) { *y = static_cast<float>(at<double>(b)); }
void i8(const std::uint8_t* b, float* y) { *y = static_cast<float>(at<std::int8_t>(b)); }
void i16(const std::uint8_t* b, float* y) { *y = static_cast<float>(at<std::int16_t>(b)); }
void i32(const std::uint8_t* b, float* y) { *y = static_cast<float>(at<std::int32_t>(b)); }
void i64(const std::uint8_t* b, float* y) { *y = static_cast<float>(at<std::int64_t>(b)); }

BlockDecoder decoderFor(std::uint32_t type)
{
    switch (type) {
    case 0: return f32;
    case 1: return f16;
    case 2: return q4_0;
    case 3: return q4_1;
    case 6: return q5_0;
    case 7: return q5_1;
    case 8: return q8_0;
    case 10: return q2_K;
    case 11: return q3_K;
    case 12: return q4_K;
    case 13: return q5_K;
    case 14: return q6_K;
    case 24: return i8;
    case 25: return i16;
    case 26: return i32;
    case 27: return i64;
    case 28: return f64;
    case 30: return bf16;
    default: return nullptr;
    }
}

} // namespace

bool ggmlCanDequantize(std::uint32_t type) { return decoderFor(type) != nullptr; }

bool dequantizeGgml(std::uint32_t type, std::span<const std::uint8_t> src, std::span<float> dst)
{
    const BlockDecoder decode = decoderFor(type);
    const auto traits = ggmlTypeTraits(type);
    if (!decode || !traits)
        return false;
    const std::size_t bs = traits->blockSize, bb = traits->blockBytes;
    if (dst.size() % bs != 0 || src.size() != dst.size() / bs * bb)
        throw Error("dequantizeGgml: " + std::to_string(src.size()) + " bytes of " + std::string(traits->name) +
                    " cannot hold " + std::to_string(dst.size()) + " elements");
    if (type == 0) { // F32 is stored as is
        if (!src.empty())
            std::memcpy(dst.data(), src.data(), src.size());
        return true;
    }
    const std::size_t blocks = dst.size() / bs;
    for (std::size_t i = 0; i < blocks; ++i)
        decode(src.data() + i * bb, dst.data() + i * bs);
    return true;
}

} // namespace qs::io
