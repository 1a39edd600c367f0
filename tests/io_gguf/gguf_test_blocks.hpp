#pragma once
// Random ggml blocks built from their logical fields (scales, mins, quants chosen by a seeded
// RNG), packed into bytes as the ggml block layouts describe, together with the f32 values the
// spec's formula gives for each element. The packing goes the opposite way to the reader's
// unpacking and the expected values come from the logical fields, so a decoder bug cannot
// cancel out against the test.
#include <Eigen/Core>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace qs::test {

struct EncodedBlocks {
    std::string bytes;
    std::vector<float> expected;
};

class BlockMaker {
public:
    explicit BlockMaker(std::uint32_t seed) : rng_(seed) {}

    // Type numbers as ggml defines them.
    enum : std::uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
                           Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30 };

    // `elements` must be a multiple of the type's block size.
    EncodedBlocks make(std::uint32_t type, std::size_t elements)
    {
        EncodedBlocks e;
        const std::size_t bs = blockSize(type);
        for (std::size_t b = 0; b < elements / bs; ++b) {
            std::string block;
            switch (type) {
            case F32: case F16: case BF16: scalar(type, block, e.expected); break;
            case Q4_0: case Q4_1: q4(type == Q4_1, block, e.expected); break;
            case Q5_0: case Q5_1: q5(type == Q5_1, block, e.expected); break;
            case Q8_0: q8(block, e.expected); break;
            case Q2_K: q2K(block, e.expected); break;
            case Q3_K: q3K(block, e.expected); break;
            case Q4_K: case Q5_K: q45K(type == Q5_K, block, e.expected); break;
            case Q6_K: q6K(block, e.expected); break;
            }
            e.bytes += block;
        }
        return e;
    }

    static std::size_t blockSize(std::uint32_t type)
    {
        switch (type) {
        case F32: case F16: case BF16: return 1;
        case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: return 256;
        default: return 32;
        }
    }

private:
    int uniformInt(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng_); }

    // A random half-precision scale; returns its bits and stores its exact f32 value.
    std::uint16_t half(float lo, float hi, float& value)
    {
        const Eigen::half h(uniform(lo, hi));
        value = static_cast<float>(h);
        std::uint16_t bits;
        std::memcpy(&bits, &h, 2);
        return bits;
    }

    static void put16(std::string& s, std::size_t at, std::uint16_t v) { std::memcpy(s.data() + at, &v, 2); }

    void scalar(std::uint32_t type, std::string& block, std::vector<float>& out)
    {
        const float x = uniform(-3.f, 3.f);
        if (type == F32) {
            block.resize(4);
            std::memcpy(block.data(), &x, 4);
            out.push_back(x);
        } else if (type == F16) {
            block.resize(2);
            float v;
            put16(block, 0, half(-3.f, 3.f, v));
            out.push_back(v);
        } else {
            const Eigen::bfloat16 b(x);
            block.resize(2);
            std::memcpy(block.data(), &b, 2);
            out.push_back(static_cast<float>(b));
        }
    }

    // Q4_0 / Q4_1: 32 four-bit quants; element i < 16 is the low nibble of byte i, element
    // i >= 16 the high nibble of byte i - 16. Q4_0: d*(q-8); Q4_1: d*q + m.
    void q4(bool withMin, std::string& block, std::vector<float>& out)
    {
        const std::size_t qsAt = withMin ? 4 : 2;
        block.assign(qsAt + 16, '\0');
        float d, m = 0;
        put16(block, 0, half(-0.2f, 0.2f, d));
        if (withMin)
            put16(block, 2, half(-1.f, 1.f, m));
        for (int i = 0; i < 32; ++i) {
            const int q = uniformInt(0, 15);
            block[qsAt + i % 16] = static_cast<char>(block[qsAt + i % 16] | (i < 16 ? q : q << 4));
            out.push_back(withMin ? d * static_cast<float>(q) + m : d * static_cast<float>(q - 8));
        }
    }

    // Q5_0 / Q5_1: as Q4 plus a 32-bit word whose bit i is element i's fifth bit.
    void q5(bool withMin, std::string& block, std::vector<float>& out)
    {
        const std::size_t qhAt = withMin ? 4 : 2, qsAt = qhAt + 4;
        block.assign(qsAt + 16, '\0');
        float d, m = 0;
        put16(block, 0, half(-0.2f, 0.2f, d));
        if (withMin)
            put16(block, 2, half(-1.f, 1.f, m));
        std::uint32_t qh = 0;
        for (int i = 0; i < 32; ++i) {
            const int q = uniformInt(0, 31);
            qh |= static_cast<std::uint32_t>(q >> 4) << i;
            block[qsAt + i % 16] = static_cast<char>(block[qsAt + i % 16] | (i < 16 ? (q & 15) : (q & 15) << 4));
            out.push_back(withMin ? d * static_cast<float>(q) + m : d * static_cast<float>(q - 16));
        }
        std::memcpy(block.data() + qhAt, &qh, 4);
    }

    void q8(std::string& block, std::vector<float>& out)
    {
        block.assign(34, '\0');
        float d;
        put16(block, 0, half(-0.05f, 0.05f, d));
        for (int i = 0; i < 32; ++i) {
            const int q = uniformInt(-128, 127);
            block[2 + i] = static_cast<char>(static_cast<std::int8_t>(q));
            out.push_back(d * static_cast<float>(q));
        }
    }

    // Q2_K (84 bytes): scales[16] at 0 (low nibble scale, high nibble min of 16-element group
    // i/16), qs[64] at 16: element i's 2 bits sit in byte (i/128)*32 + i%32 at bit
    // 2*((i%128)/32); d at 80, dmin at 82. x = d*sc*q - dmin*min.
    void q2K(std::string& block, std::vector<float>& out)
    {
        block.assign(84, '\0');
        float d, dmin;
        put16(block, 80, half(-0.1f, 0.1f, d));
        put16(block, 82, half(-0.1f, 0.1f, dmin));
        int sc[16], mn[16];
        for (int g = 0; g < 16; ++g) {
            sc[g] = uniformInt(0, 15);
            mn[g] = uniformInt(0, 15);
            block[g] = static_cast<char>(sc[g] | (mn[g] << 4));
        }
        for (int i = 0; i < 256; ++i) {
            const int q = uniformInt(0, 3);
            const std::size_t at = 16 + (i / 128) * 32 + i % 32;
            block[at] = static_cast<char>(block[at] | (q << (2 * ((i % 128) / 32))));
            out.push_back(d * static_cast<float>(sc[i / 16]) * static_cast<float>(q) - dmin * static_cast<float>(mn[i / 16]));
        }
    }

    // Q3_K (110 bytes): hmask[32] at 0 (element i's high bit in byte i%32, bit i/32), qs[64]
    // at 32 (low 2 bits placed as in Q2_K), 16 six-bit scales packed in 12 bytes at 96 (low
    // nibbles: scale j<8 in byte j's low nibble, j>=8 in byte j-8's high nibble; high 2 bits
    // of scale j in byte 8 + j%4 at bit 2*(j/4)), d at 108. x = d*(sc-32)*(q-4).
    void q3K(std::string& block, std::vector<float>& out)
    {
        block.assign(110, '\0');
        float d;
        put16(block, 108, half(-0.1f, 0.1f, d));
        int sc[16];
        for (int j = 0; j < 16; ++j) {
            sc[j] = uniformInt(0, 63);
            const int low = sc[j] & 15, high = sc[j] >> 4;
            if (j < 8)
                block[96 + j] = static_cast<char>(block[96 + j] | low);
            else
                block[96 + j - 8] = static_cast<char>(block[96 + j - 8] | (low << 4));
            block[96 + 8 + j % 4] = static_cast<char>(block[96 + 8 + j % 4] | (high << (2 * (j / 4))));
        }
        for (int i = 0; i < 256; ++i) {
            const int q = uniformInt(0, 7);
            block[i % 32] = static_cast<char>(block[i % 32] | ((q >> 2) << (i / 32)));
            const std::size_t at = 32 + (i / 128) * 32 + i % 32;
            block[at] = static_cast<char>(block[at] | ((q & 3) << (2 * ((i % 128) / 32))));
            out.push_back(d * static_cast<float>(sc[i / 16] - 32) * static_cast<float>(q - 4));
        }
    }

    // Q4_K (144 bytes) / Q5_K (176): d at 0, dmin at 2, 8 six-bit scales and mins in 12 bytes
    // at 4 (j<4: sc in byte j, min in byte j+4, low 6 bits; j>=4: low nibbles in byte j+4,
    // sc's top 2 bits in byte j-4's bits 6-7, min's in byte j's), Q5_K's qh[32] at 16 (element
    // i's fifth bit in byte i%32, bit i/32), then 4-bit quants: element i in byte
    // (i/64)*32 + i%32, low nibble when i%64 < 32. x = d*sc*q - dmin*min, group i/32.
    void q45K(bool five, std::string& block, std::vector<float>& out)
    {
        block.assign(five ? 176 : 144, '\0');
        float d, dmin;
        put16(block, 0, half(-0.1f, 0.1f, d));
        put16(block, 2, half(-0.1f, 0.1f, dmin));
        int sc[8], mn[8];
        for (int j = 0; j < 8; ++j) {
            sc[j] = uniformInt(0, 63);
            mn[j] = uniformInt(0, 63);
        }
        auto* s = reinterpret_cast<unsigned char*>(block.data() + 4);
        for (int j = 0; j < 4; ++j) {
            s[j] = static_cast<unsigned char>(sc[j] | ((sc[j + 4] >> 4) << 6));
            s[j + 4] = static_cast<unsigned char>(mn[j] | ((mn[j + 4] >> 4) << 6));
            s[j + 8] = static_cast<unsigned char>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
        }
        const std::size_t qsAt = five ? 48 : 16;
        for (int i = 0; i < 256; ++i) {
            const int q = uniformInt(0, five ? 31 : 15);
            const std::size_t at = qsAt + (i / 64) * 32 + i % 32;
            block[at] = static_cast<char>(block[at] | (i % 64 < 32 ? (q & 15) : (q & 15) << 4));
            if (five)
                block[16 + i % 32] = static_cast<char>(block[16 + i % 32] | ((q >> 4) << (i / 32)));
            out.push_back(d * static_cast<float>(sc[i / 32]) * static_cast<float>(q) - dmin * static_cast<float>(mn[i / 32]));
        }
    }

    // Q6_K (210 bytes): ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, d at 208.
    // Element i: h = i/128, l = i%32, k = (i%128)/32; low 4 bits in ql[h*64 + l + 32*(k&1)]
    // (high nibble when k >= 2), high 2 bits in qh[h*32 + l] at bit 2k. x = d*sc[i/16]*(q-32).
    void q6K(std::string& block, std::vector<float>& out)
    {
        block.assign(210, '\0');
        float d;
        put16(block, 208, half(-0.01f, 0.01f, d));
        int sc[16];
        for (int j = 0; j < 16; ++j) {
            sc[j] = uniformInt(-128, 127);
            block[192 + j] = static_cast<char>(static_cast<std::int8_t>(sc[j]));
        }
        for (int i = 0; i < 256; ++i) {
            const int q = uniformInt(0, 63);
            const int h = i / 128, l = i % 32, k = (i % 128) / 32;
            const std::size_t lowAt = h * 64 + l + 32 * (k & 1);
            block[lowAt] = static_cast<char>(block[lowAt] | ((q & 15) << (k >= 2 ? 4 : 0)));
            const std::size_t highAt = 128 + h * 32 + l;
            block[highAt] = static_cast<char>(block[highAt] | ((q >> 4) << (2 * k)));
            out.push_back(d * static_cast<float>(sc[i / 16]) * static_cast<float>(q - 32));
        }
    }

    std::mt19937 rng_;
};

} // namespace qs::test
