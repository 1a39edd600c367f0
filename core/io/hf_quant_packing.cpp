#include "core/io/hf_quant_packing.hpp"

#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <Eigen/Core>

#include <cmath>

namespace qs::io {

namespace {

// Value j of an LSB-first bit stream of `bits`-wide values; word(i) returns the i-th word.
template <typename WordAt>
std::uint8_t streamValue(WordAt word, std::size_t j, int bits)
{
    const std::size_t bit = j * std::size_t(bits);
    const std::size_t w = bit / 32;
    const int off = int(bit % 32);
    std::uint64_t v = std::uint32_t(word(w)) >> off;
    if (off + bits > 32)
        v |= std::uint64_t(std::uint32_t(word(w + 1))) << (32 - off);
    return std::uint8_t(v & ((1u << bits) - 1));
}

// ORs value into an LSB-first bit stream; word(i) returns a reference to the i-th word.
template <typename WordRef>
void streamPut(WordRef word, std::size_t j, int bits, std::uint32_t value)
{
    const std::size_t bit = j * std::size_t(bits);
    const std::size_t w = bit / 32;
    const int off = int(bit % 32);
    word(w) |= value << off;
    if (off + bits > 32)
        word(w + 1) |= value >> (32 - off);
}

void checkBits(int bits)
{
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
        throw Error("GPTQ packing: " + std::to_string(bits) + " bits is not one of 2, 3, 4, 8");
}

void checkValues(const std::vector<std::uint8_t>& v, int bits, const char* what)
{
    for (auto x : v)
        if (x >> bits)
            throw Error(std::string("packing: ") + what + " value " + std::to_string(x) + " does not fit in " +
                        std::to_string(bits) + " bits");
}

} // namespace

std::uint16_t toF16Bits(float x) { return Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(x)); }
float roundToF16(float x) { return float(Eigen::half(x)); }

std::vector<std::int32_t> packGptqQweight(const std::vector<std::uint8_t>& codes, int n, int k, int bits)
{
    checkBits(bits);
    if (n <= 0 || k <= 0 || (std::size_t(k) * bits) % 32 != 0 || codes.size() != std::size_t(n) * std::size_t(k))
        throw Error("GPTQ qweight: K*bits must be a multiple of 32 and codes [N][K]");
    checkValues(codes, bits, "code");
    const std::size_t words = std::size_t(k) * bits / 32;
    std::vector<std::uint32_t> out(words * std::size_t(n), 0);
    for (int c = 0; c < n; ++c) {
        auto ref = [&](std::size_t w) -> std::uint32_t& { return out[w * std::size_t(n) + std::size_t(c)]; };
        for (int j = 0; j < k; ++j)
            streamPut(ref, std::size_t(j), bits, codes[std::size_t(c) * std::size_t(k) + std::size_t(j)]);
    }
    return std::vector<std::int32_t>(out.begin(), out.end());
}

std::vector<std::uint8_t> unpackGptqQweight(const std::vector<std::int32_t>& qweight, int n, int k, int bits)
{
    checkBits(bits);
    const std::size_t words = std::size_t(k) * bits / 32;
    if (n <= 0 || k <= 0 || (std::size_t(k) * bits) % 32 != 0 || qweight.size() != words * std::size_t(n))
        throw Error("GPTQ qweight: expected [K*bits/32][N] words");
    std::vector<std::uint8_t> codes(std::size_t(n) * std::size_t(k));
    for (int c = 0; c < n; ++c) {
        auto at = [&](std::size_t w) { return qweight[w * std::size_t(n) + std::size_t(c)]; };
        for (int j = 0; j < k; ++j)
            codes[std::size_t(c) * std::size_t(k) + std::size_t(j)] = streamValue(at, std::size_t(j), bits);
    }
    return codes;
}

std::vector<std::int32_t> packGptqQzeros(const std::vector<std::uint8_t>& stored, int groups, int n, int bits)
{
    checkBits(bits);
    if (groups <= 0 || n <= 0 || (std::size_t(n) * bits) % 32 != 0 ||
        stored.size() != std::size_t(groups) * std::size_t(n))
        throw Error("GPTQ qzeros: N*bits must be a multiple of 32 and zeros [G][N]");
    checkValues(stored, bits, "zero");
    const std::size_t words = std::size_t(n) * bits / 32;
    std::vector<std::uint32_t> out(words * std::size_t(groups), 0);
    for (int g = 0; g < groups; ++g) {
        auto ref = [&](std::size_t w) -> std::uint32_t& { return out[std::size_t(g) * words + w]; };
        for (int c = 0; c < n; ++c)
            streamPut(ref, std::size_t(c), bits, stored[std::size_t(g) * std::size_t(n) + std::size_t(c)]);
    }
    return std::vector<std::int32_t>(out.begin(), out.end());
}

std::vector<std::uint8_t> unpackGptqQzeros(const std::vector<std::int32_t>& qzeros, int groups, int n, int bits)
{
    checkBits(bits);
    const std::size_t words = std::size_t(n) * bits / 32;
    if (groups <= 0 || n <= 0 || (std::size_t(n) * bits) % 32 != 0 || qzeros.size() != words * std::size_t(groups))
        throw Error("GPTQ qzeros: expected [G][N*bits/32] words");
    std::vector<std::uint8_t> out(std::size_t(groups) * std::size_t(n));
    for (int g = 0; g < groups; ++g) {
        auto at = [&](std::size_t w) { return qzeros[std::size_t(g) * words + w]; };
        for (int c = 0; c < n; ++c)
            out[std::size_t(g) * std::size_t(n) + std::size_t(c)] = streamValue(at, std::size_t(c), bits);
    }
    return out;
}

std::vector<std::int32_t> packAwqRows(const std::vector<std::uint8_t>& values, int rows, int n)
{
    if (rows <= 0 || n <= 0 || n % 8 != 0 || values.size() != std::size_t(rows) * std::size_t(n))
        throw Error("AWQ packing: N must be a multiple of 8 and values [rows][N]");
    checkValues(values, 4, "code");
    const int words = n / 8;
    std::vector<std::int32_t> out(std::size_t(rows) * std::size_t(words));
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < words; ++j) {
            std::uint32_t w = 0;
            for (int i = 0; i < 8; ++i)
                w |= std::uint32_t(values[std::size_t(r) * std::size_t(n) + std::size_t(8 * j + kAwqOrder[i])]) << (4 * i);
            out[std::size_t(r) * std::size_t(words) + std::size_t(j)] = std::int32_t(w);
        }
    return out;
}

std::vector<std::uint8_t> unpackAwqRows(const std::vector<std::int32_t>& words, int rows, int n)
{
    if (rows <= 0 || n <= 0 || n % 8 != 0 || words.size() != std::size_t(rows) * std::size_t(n / 8))
        throw Error("AWQ unpacking: expected [rows][N/8] words");
    std::vector<std::uint8_t> out(std::size_t(rows) * std::size_t(n));
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < n / 8; ++j) {
            const auto w = std::uint32_t(words[std::size_t(r) * std::size_t(n / 8) + std::size_t(j)]);
            for (int i = 0; i < 8; ++i)
                out[std::size_t(r) * std::size_t(n) + std::size_t(8 * j + kAwqOrder[i])] = std::uint8_t((w >> (4 * i)) & 0xF);
        }
    return out;
}

std::vector<std::uint8_t> unpackComputeCodes(const compute::IntGroupwise& m)
{
    const std::size_t rowWords = std::size_t(m.k) * std::size_t(m.bits) / 32;
    std::vector<std::uint8_t> codes(std::size_t(m.n) * std::size_t(m.k));
    for (int r = 0; r < m.n; ++r) {
        auto at = [&](std::size_t w) { return m.codes[std::size_t(r) * rowWords + w]; };
        for (int j = 0; j < m.k; ++j)
            codes[std::size_t(r) * std::size_t(m.k) + std::size_t(j)] = streamValue(at, std::size_t(j), m.bits);
    }
    return codes;
}

std::vector<std::uint32_t> packComputeCodes(const std::vector<std::uint8_t>& codes, int n, int k, int bits)
{
    const std::size_t rowWords = std::size_t(k) * std::size_t(bits) / 32;
    std::vector<std::uint32_t> out(rowWords * std::size_t(n), 0);
    for (int r = 0; r < n; ++r) {
        auto ref = [&](std::size_t w) -> std::uint32_t& { return out[std::size_t(r) * rowWords + w]; };
        for (int j = 0; j < k; ++j)
            streamPut(ref, std::size_t(j), bits, codes[std::size_t(r) * std::size_t(k) + std::size_t(j)]);
    }
    return out;
}

namespace {

// Zero points [N][G] of an IntGroupwise as integers (implied 2^(bits-1) when symmetric).
std::vector<int> integerZeros(const compute::IntGroupwise& m, const std::string& what)
{
    const std::size_t cells = std::size_t(m.n) * std::size_t(m.groups());
    std::vector<int> z(cells, 1 << (m.bits - 1));
    if (m.symmetric)
        return z;
    for (std::size_t i = 0; i < cells; ++i) {
        const float f = m.zeros[i];
        if (!(f >= 0.0f && f <= float((1 << m.bits) - 1)) || std::nearbyint(f) != f)
            throw Error(what + ": zero point " + std::to_string(f) + " is not an integer in [0, " +
                        std::to_string((1 << m.bits) - 1) + "]; it cannot be stored in a packed checkpoint");
        z[i] = int(f);
    }
    return z;
}

// f16 scales [G][N] from [N][G] f32.
std::vector<std::uint16_t> scalesGN(const std::vector<float>& scales, int n, int groups, const std::string& what)
{
    std::vector<std::uint16_t> out(std::size_t(n) * std::size_t(groups));
    for (int r = 0; r < n; ++r)
        for (int g = 0; g < groups; ++g) {
            const float s = scales[std::size_t(r) * std::size_t(groups) + std::size_t(g)];
            const float h = roundToF16(s);
            if (!std::isfinite(h) || (s != 0.0f && h == 0.0f))
                throw Error(what + ": scale " + std::to_string(s) + " does not fit in f16");
            out[std::size_t(g) * std::size_t(n) + std::size_t(r)] = toF16Bits(s);
        }
    return out;
}

std::vector<float> scalesNG(const std::vector<std::uint16_t>& scales, int n, int groups, int repeat)
{
    std::vector<float> out(std::size_t(n) * std::size_t(groups) * std::size_t(repeat));
    for (int r = 0; r < n; ++r)
        for (int g = 0; g < groups * repeat; ++g)
            out[std::size_t(r) * std::size_t(groups * repeat) + std::size_t(g)] =
                halfToF32(scales[std::size_t(g / repeat) * std::size_t(n) + std::size_t(r)]);
    return out;
}

void requireN(int n, int bits, const std::string& what)
{
    if ((std::size_t(n) * std::size_t(bits)) % 32 != 0)
        throw Error(what + ": " + std::to_string(n) + " output features do not fill whole 32-bit words of " +
                    std::to_string(bits) + "-bit zero points (N*bits must be a multiple of 32)");
}

// The group size the kernels hold (32/64/128) for a file's group size, and how many such
// groups one file group spans.
int storedGroupSize(int fileGroup, int k, const std::string& what)
{
    for (int s : {128, 64, 32})
        if (fileGroup % s == 0 && k % s == 0)
            return s;
    throw Error(what + ": group size " + std::to_string(fileGroup) +
                " is not a multiple of 32; the kernels hold groups of 32, 64 or 128");
}

} // namespace

GptqLinear toGptq(const compute::IntGroupwise& m, bool v2, const std::string& what)
{
    compute::validate(m);
    requireN(m.n, m.bits, what);
    GptqLinear g;
    g.n = m.n;
    g.k = m.k;
    g.bits = m.bits;
    g.groupSize = m.groupSize;
    const int groups = m.groups();
    const auto codes = unpackComputeCodes(m);
    g.qweight = packGptqQweight(codes, m.n, m.k, m.bits);
    const auto zeros = integerZeros(m, what);
    std::vector<std::uint8_t> stored(std::size_t(groups) * std::size_t(m.n));
    for (int r = 0; r < m.n; ++r)
        for (int gr = 0; gr < groups; ++gr) {
            int z = zeros[std::size_t(r) * std::size_t(groups) + std::size_t(gr)];
            if (!v2) {
                if (z == 0)
                    throw Error(what + ": zero point 0 (row " + std::to_string(r) + ", group " + std::to_string(gr) +
                                ") cannot be stored in GPTQ v1, which keeps zero - 1; export as gptq_v2");
                z -= 1;
            }
            stored[std::size_t(gr) * std::size_t(m.n) + std::size_t(r)] = std::uint8_t(z);
        }
    g.qzeros = packGptqQzeros(stored, groups, m.n, m.bits);
    g.scales = scalesGN(m.scales, m.n, groups, what);
    g.gIdx.resize(std::size_t(m.k));
    for (int j = 0; j < m.k; ++j)
        g.gIdx[std::size_t(j)] = m.gIdx.empty() ? j / m.groupSize : m.gIdx[std::size_t(j)];
    return g;
}

compute::IntGroupwise fromGptq(const GptqLinear& g, bool v2, bool sym, const std::string& what)
{
    if (g.bits != 2 && g.bits != 3 && g.bits != 4)
        throw Error(what + ": " + std::to_string(g.bits) + "-bit GPTQ is held as int8 per channel (fromGptqInt8)");
    if (g.n <= 0 || g.k <= 0 || g.groupSize <= 0 || g.k % g.groupSize != 0)
        throw Error(what + ": group size " + std::to_string(g.groupSize) + " does not divide " + std::to_string(g.k) +
                    " input features");
    requireN(g.n, g.bits, what);
    const int groups = g.groups();
    if (g.scales.size() != std::size_t(groups) * std::size_t(g.n) || g.gIdx.size() != std::size_t(g.k))
        throw Error(what + ": scales or g_idx have the wrong size");
    const int stored = storedGroupSize(g.groupSize, g.k, what);
    const int repeat = g.groupSize / stored;

    compute::IntGroupwise m;
    m.n = g.n;
    m.k = g.k;
    m.bits = g.bits;
    m.groupSize = stored;
    m.symmetric = sym;
    m.codes = packComputeCodes(unpackGptqQweight(g.qweight, g.n, g.k, g.bits), g.n, g.k, g.bits);
    m.scales = scalesNG(g.scales, g.n, groups, repeat);
    const auto z = unpackGptqQzeros(g.qzeros, groups, g.n, g.bits);
    const int mask = (1 << g.bits) - 1;
    const int symZero = 1 << (g.bits - 1);
    if (!sym)
        m.zeros.resize(m.scales.size());
    for (int gr = 0; gr < groups; ++gr)
        for (int r = 0; r < g.n; ++r) {
            // v1 keeps zero - 1 masked to `bits` (AutoGPTQ adds one back after masking).
            const int zero = v2 ? z[std::size_t(gr) * std::size_t(g.n) + std::size_t(r)]
                                : (z[std::size_t(gr) * std::size_t(g.n) + std::size_t(r)] & mask) + 1;
            if (sym && zero != symZero)
                throw Error(what + ": symmetric checkpoint holds zero point " + std::to_string(zero) + ", expected " +
                            std::to_string(symZero));
            if (zero > mask)
                throw Error(what + ": zero point " + std::to_string(zero) + " does not fit in " +
                            std::to_string(g.bits) + " bits");
            if (!sym)
                for (int rep = 0; rep < repeat; ++rep)
                    m.zeros[std::size_t(r) * std::size_t(groups * repeat) + std::size_t(gr * repeat + rep)] = float(zero);
        }
    bool trivial = true;
    for (int j = 0; j < g.k; ++j) {
        const int gi = g.gIdx[std::size_t(j)];
        if (gi < 0 || gi >= groups)
            throw Error(what + ": g_idx[" + std::to_string(j) + "] = " + std::to_string(gi) + " is out of range");
        trivial = trivial && gi == j / g.groupSize;
    }
    if (!trivial) {
        m.gIdx.resize(std::size_t(g.k));
        for (int j = 0; j < g.k; ++j)
            m.gIdx[std::size_t(j)] = g.gIdx[std::size_t(j)] * repeat;
    }
    compute::validate(m);
    return m;
}

AwqLinear toAwq(const compute::IntGroupwise& m, const std::string& what)
{
    compute::validate(m);
    if (m.bits != 4)
        throw Error(what + ": AWQ GEMM checkpoints hold 4-bit weights, this one has " + std::to_string(m.bits));
    if (!m.gIdx.empty())
        throw Error(what + ": AWQ checkpoints have no g_idx (act-order); export this as GPTQ");
    if (m.n % 8 != 0)
        throw Error(what + ": " + std::to_string(m.n) + " output features are not a multiple of 8");
    AwqLinear a;
    a.n = m.n;
    a.k = m.k;
    a.groupSize = m.groupSize;
    const int groups = m.groups();
    const auto codes = unpackComputeCodes(m);
    std::vector<std::uint8_t> kn(codes.size());
    for (int r = 0; r < m.n; ++r)
        for (int j = 0; j < m.k; ++j)
            kn[std::size_t(j) * std::size_t(m.n) + std::size_t(r)] = codes[std::size_t(r) * std::size_t(m.k) + std::size_t(j)];
    a.qweight = packAwqRows(kn, m.k, m.n);
    const auto zeros = integerZeros(m, what);
    std::vector<std::uint8_t> gn(std::size_t(groups) * std::size_t(m.n));
    for (int r = 0; r < m.n; ++r)
        for (int g = 0; g < groups; ++g)
            gn[std::size_t(g) * std::size_t(m.n) + std::size_t(r)] = std::uint8_t(zeros[std::size_t(r) * std::size_t(groups) + std::size_t(g)]);
    a.qzeros = packAwqRows(gn, groups, m.n);
    a.scales = scalesGN(m.scales, m.n, groups, what);
    return a;
}

compute::IntGroupwise fromAwq(const AwqLinear& a, const std::string& what)
{
    if (a.n <= 0 || a.k <= 0 || a.n % 8 != 0 || a.groupSize <= 0 || a.k % a.groupSize != 0)
        throw Error(what + ": AWQ shapes: N must be a multiple of 8 and the group size divide K");
    const int groups = a.groups();
    if (a.scales.size() != std::size_t(groups) * std::size_t(a.n))
        throw Error(what + ": scales have the wrong size");
    const int stored = storedGroupSize(a.groupSize, a.k, what);
    const int repeat = a.groupSize / stored;
    const auto kn = unpackAwqRows(a.qweight, a.k, a.n);
    std::vector<std::uint8_t> codes(kn.size());
    for (int j = 0; j < a.k; ++j)
        for (int r = 0; r < a.n; ++r)
            codes[std::size_t(r) * std::size_t(a.k) + std::size_t(j)] = kn[std::size_t(j) * std::size_t(a.n) + std::size_t(r)];
    compute::IntGroupwise m;
    m.n = a.n;
    m.k = a.k;
    m.bits = 4;
    m.groupSize = stored;
    m.symmetric = false;
    m.codes = packComputeCodes(codes, a.n, a.k, 4);
    m.scales = scalesNG(a.scales, a.n, groups, repeat);
    const auto gn = unpackAwqRows(a.qzeros, groups, a.n);
    m.zeros.resize(m.scales.size());
    for (int r = 0; r < a.n; ++r)
        for (int g = 0; g < groups * repeat; ++g)
            m.zeros[std::size_t(r) * std::size_t(groups * repeat) + std::size_t(g)] =
                float(gn[std::size_t(g / repeat) * std::size_t(a.n) + std::size_t(r)]);
    compute::validate(m);
    return m;
}

GptqLinear toGptqInt8(const compute::Int8PerChannel& m, bool v2, const std::string& what)
{
    compute::validate(m);
    requireN(m.n, 8, what);
    GptqLinear g;
    g.n = m.n;
    g.k = m.k;
    g.bits = 8;
    g.groupSize = m.k;
    std::vector<std::uint8_t> codes(m.q.size());
    for (std::size_t i = 0; i < codes.size(); ++i)
        codes[i] = std::uint8_t(int(m.q[i]) + 128);
    g.qweight = packGptqQweight(codes, m.n, m.k, 8);
    g.qzeros = packGptqQzeros(std::vector<std::uint8_t>(std::size_t(m.n), std::uint8_t(v2 ? 128 : 127)), 1, m.n, 8);
    g.scales = scalesGN(m.scale, m.n, 1, what);
    g.gIdx.assign(std::size_t(m.k), 0);
    return g;
}

compute::Int8PerChannel fromGptqInt8(const GptqLinear& g, bool v2, const std::string& what)
{
    if (g.bits != 8 || g.groupSize != g.k)
        throw Error(what + ": 8-bit GPTQ opens only with one group per row (group_size -1), as int8 per channel");
    if (g.scales.size() != std::size_t(g.n) || g.gIdx.size() != std::size_t(g.k))
        throw Error(what + ": scales or g_idx have the wrong size");
    for (auto gi : g.gIdx)
        if (gi != 0)
            throw Error(what + ": 8-bit GPTQ with act-order (g_idx) is not supported");
    const auto z = unpackGptqQzeros(g.qzeros, 1, g.n, 8);
    for (auto zero : z)
        if ((v2 ? int(zero) : int(zero) + 1) != 128)
            throw Error(what + ": 8-bit GPTQ opens only symmetric (zero point 128)");
    compute::Int8PerChannel m;
    m.n = g.n;
    m.k = g.k;
    const auto codes = unpackGptqQweight(g.qweight, g.n, g.k, 8);
    m.q.resize(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i)
        m.q[i] = std::int8_t(int(codes[i]) - 128);
    m.scale = scalesNG(g.scales, g.n, 1, 1);
    compute::validate(m);
    return m;
}

} // namespace qs::io
