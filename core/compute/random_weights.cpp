#include "core/compute/random_weights.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <regex>

namespace qs::compute {
namespace {

std::uint16_t toHalfBits(float v) { return Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(v)); }
std::uint16_t toBf16Bits(float v) { return Eigen::numext::bit_cast<std::uint16_t>(Eigen::bfloat16(v)); }

void fillRandomWords(std::vector<std::uint32_t>& v, std::mt19937& rng)
{
    for (auto& w : v)
        w = rng();
}

std::vector<float> randomScales(std::size_t count, float base, std::mt19937& rng)
{
    std::uniform_real_distribution<float> u(0.5f * base, 1.5f * base);
    std::vector<float> s(count);
    for (auto& x : s)
        x = u(rng);
    return s;
}

void putHalf(std::uint8_t* p, float v)
{
    const std::uint16_t b = toHalfBits(v);
    p[0] = std::uint8_t(b & 0xFF);
    p[1] = std::uint8_t(b >> 8);
}

} // namespace

std::vector<float> randomNormal(std::size_t count, std::mt19937& rng, float sigma)
{
    std::normal_distribution<float> d(0.0f, sigma);
    std::vector<float> v(count);
    for (auto& x : v)
        x = d(rng);
    return v;
}

DenseHalf randomDenseHalf(int n, int k, bool bf16, std::mt19937& rng)
{
    DenseHalf w{n, k, bf16, {}};
    const auto vals = randomNormal(std::size_t(n) * k, rng, 0.02f);
    w.bits.resize(vals.size());
    std::transform(vals.begin(), vals.end(), w.bits.begin(), [&](float v) { return bf16 ? toBf16Bits(v) : toHalfBits(v); });
    return w;
}

Int8PerChannel randomInt8PerChannel(int n, int k, std::mt19937& rng)
{
    Int8PerChannel w{n, k, std::vector<std::int8_t>(std::size_t(n) * k), randomScales(std::size_t(n), 0.02f / 127, rng)};
    std::uniform_int_distribution<int> d(-127, 127);
    for (auto& q : w.q)
        q = std::int8_t(d(rng));
    return w;
}

IntGroupwise randomGroupwise(int n, int k, int bits, int groupSize, bool symmetric, bool actOrder, std::mt19937& rng)
{
    IntGroupwise w;
    w.n = n;
    w.k = k;
    w.bits = bits;
    w.groupSize = groupSize;
    w.symmetric = symmetric;
    w.codes.resize(std::size_t(n) * k * bits / 32);
    fillRandomWords(w.codes, rng);
    const std::size_t groups = std::size_t(n) * (k / groupSize);
    w.scales = randomScales(groups, 0.02f / float(1 << (bits - 1)), rng);
    if (!symmetric) {
        std::uniform_real_distribution<float> z(0.0f, float((1 << bits) - 1));
        w.zeros.resize(groups);
        for (auto& x : w.zeros)
            x = std::round(z(rng));
    }
    if (actOrder) {
        // GPTQ act-order: columns were quantized in a permuted order, g_idx[k] = perm[k] / G.
        std::vector<int> perm(static_cast<std::size_t>(k));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        w.gIdx.resize(std::size_t(k));
        for (int c = 0; c < k; ++c)
            w.gIdx[std::size_t(c)] = perm[std::size_t(c)] / groupSize;
    }
    return w;
}

Nf4 randomNf4(int n, int k, bool doubleQuant, std::mt19937& rng)
{
    Nf4 w;
    w.n = n;
    w.k = k;
    w.codes.resize(std::size_t(n) * k / 8);
    fillRandomWords(w.codes, rng);
    const std::size_t blocks = w.blocks();
    w.doubleQuant = doubleQuant;
    if (!doubleQuant) {
        w.absmax = randomScales(blocks, 0.05f, rng);
    } else {
        // A monotone signed codebook like bitsandbytes' dynamic map; offset = mean absmax.
        for (int i = 0; i < 256; ++i)
            w.absmaxCodebook[std::size_t(i)] = float(i - 128) / 128.0f;
        w.absmaxCodes.resize(blocks);
        std::uniform_int_distribution<int> c(0, 255);
        for (auto& x : w.absmaxCodes)
            x = std::uint8_t(c(rng));
        w.absmaxScale = randomScales((blocks + 255) / 256, 0.02f, rng);
        w.absmaxOffset = 0.05f;
    }
    return w;
}

GgufBlocks randomGguf(GgufBlockType type, int n, int k, std::mt19937& rng)
{
    const auto info = ggufBlockInfo(type);
    GgufBlocks w{n, k, type, std::vector<std::uint8_t>(std::size_t(n) * k / info.elements * info.bytes)};
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : w.raw)
        b = std::uint8_t(byte(rng));
    std::uniform_real_distribution<float> d(0.001f, 0.004f);
    for (std::size_t off = 0; off < w.raw.size(); off += std::size_t(info.bytes)) {
        std::uint8_t* b = w.raw.data() + off;
        switch (type) {
        case GgufBlockType::Q8_0:
        case GgufBlockType::Q4_0: putHalf(b, d(rng)); break;
        case GgufBlockType::Q4_1: putHalf(b, d(rng)); putHalf(b + 2, -8.0f * d(rng)); break;
        case GgufBlockType::Q4_K: putHalf(b, d(rng) / 32); putHalf(b + 2, d(rng) / 32); break;
        case GgufBlockType::Q6_K: putHalf(b + 208, d(rng) / 64); break;
        }
    }
    return w;
}

std::vector<std::string> standardFormatNames()
{
    return {"f16", "bf16", "int8", "int4-g128-sym", "int4-g128-asym", "int4-g128-asym-gidx", "int3-g64-asym",
            "int2-g32-asym", "nf4", "nf4-dq", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"};
}

WeightMatrix randomWeights(const std::string& format, int n, int k, std::mt19937& rng)
{
    if (format == "f16" || format == "bf16")
        return randomDenseHalf(n, k, format == "bf16", rng);
    if (format == "int8" || format == "int8-channel")
        return randomInt8PerChannel(n, k, rng);
    if (format == "nf4" || format == "nf4-dq")
        return randomNf4(n, k, format == "nf4-dq", rng);
    for (auto t : {GgufBlockType::Q4_0, GgufBlockType::Q4_1, GgufBlockType::Q8_0, GgufBlockType::Q4_K, GgufBlockType::Q6_K})
        if (format == ggufBlockName(t))
            return randomGguf(t, n, k, rng);
    static const std::regex re(R"(int([234])-g(32|64|128)-(sym|asym)(-gidx)?)");
    std::smatch mm;
    if (std::regex_match(format, mm, re))
        return randomGroupwise(n, k, std::stoi(mm[1]), std::stoi(mm[2]), mm[3] == "sym", mm[4].matched, rng);
    throw ComputeError("unknown weight format '" + format + "'");
}

} // namespace qs::compute
