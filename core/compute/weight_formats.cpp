#include "core/compute/weight_formats.hpp"

#include <cmath>
#include <string>

namespace qs::compute {

// bitsandbytes' NF4 table (functional.py, get_4bit_type("nf4")).
const std::array<float, 16> kNf4Levels = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

GgufBlockInfo ggufBlockInfo(GgufBlockType t)
{
    switch (t) {
    case GgufBlockType::Q4_0: return {32, 18};
    case GgufBlockType::Q4_1: return {32, 20};
    case GgufBlockType::Q8_0: return {32, 34};
    case GgufBlockType::Q4_K: return {256, 144};
    case GgufBlockType::Q6_K: return {256, 210};
    }
    throw ComputeError("unknown GGUF block type " + std::to_string(static_cast<std::uint32_t>(t)));
}

const char* ggufBlockName(GgufBlockType t)
{
    switch (t) {
    case GgufBlockType::Q4_0: return "Q4_0";
    case GgufBlockType::Q4_1: return "Q4_1";
    case GgufBlockType::Q8_0: return "Q8_0";
    case GgufBlockType::Q4_K: return "Q4_K";
    case GgufBlockType::Q6_K: return "Q6_K";
    }
    return "?";
}

int rowsOf(const WeightMatrix& w)
{
    return std::visit([](const auto& m) { return m.n; }, w);
}

int colsOf(const WeightMatrix& w)
{
    return std::visit([](const auto& m) { return m.k; }, w);
}

namespace {

struct NameOf {
    std::string operator()(const DenseHalf& m) const { return m.bf16 ? "bf16" : "f16"; }
    std::string operator()(const Int8PerChannel&) const { return "int8-channel"; }
    std::string operator()(const IntGroupwise& m) const
    {
        return "int" + std::to_string(m.bits) + "-g" + std::to_string(m.groupSize) + (m.symmetric ? "-sym" : "-asym") +
               (m.gIdx.empty() ? "" : "-gidx");
    }
    std::string operator()(const Nf4& m) const { return m.doubleQuant ? "nf4-dq" : "nf4"; }
    std::string operator()(const GgufBlocks& m) const { return ggufBlockName(m.type); }
};

struct BytesOf {
    std::size_t operator()(const DenseHalf& m) const { return m.bits.size() * 2; }
    std::size_t operator()(const Int8PerChannel& m) const { return m.q.size() + m.scale.size() * 4; }
    std::size_t operator()(const IntGroupwise& m) const
    {
        return m.codes.size() * 4 + m.scales.size() * 4 + m.zeros.size() * 4 + m.gIdx.size() * 4;
    }
    std::size_t operator()(const Nf4& m) const
    {
        return m.codes.size() * 4 + m.absmax.size() * 4 + m.absmaxCodes.size() + m.absmaxScale.size() * 4;
    }
    std::size_t operator()(const GgufBlocks& m) const { return m.raw.size(); }
};

void require(bool ok, const std::string& what)
{
    if (!ok)
        throw ComputeError("weight matrix: " + what);
}

void checkShape(int n, int k, int kMultiple)
{
    // Bounded so that every index below fits size_t arithmetic without overflow.
    require(n > 0 && n <= (1 << 22) && k > 0 && k <= (1 << 22), "shape " + std::to_string(n) + "x" + std::to_string(k) +
                                                                     " outside 1..4194304");
    require(k % kMultiple == 0, "K=" + std::to_string(k) + " is not a multiple of " + std::to_string(kMultiple));
}

std::size_t cells(int n, int k) { return std::size_t(n) * std::size_t(k); }

struct Validator {
    void operator()(const DenseHalf& m) const
    {
        checkShape(m.n, m.k, 1);
        require(m.bits.size() == cells(m.n, m.k), "f16/bf16 bits size mismatch");
    }
    void operator()(const Int8PerChannel& m) const
    {
        checkShape(m.n, m.k, 1);
        require(m.q.size() == cells(m.n, m.k), "int8 codes size mismatch");
        require(m.scale.size() == std::size_t(m.n), "int8 scale size != N");
    }
    void operator()(const IntGroupwise& m) const
    {
        require(m.bits == 2 || m.bits == 3 || m.bits == 4, "bits must be 2, 3 or 4");
        require(m.groupSize == 32 || m.groupSize == 64 || m.groupSize == 128, "group size must be 32, 64 or 128");
        checkShape(m.n, m.k, m.groupSize);
        const std::size_t groups = cells(m.n, m.groups());
        require(m.codes.size() == cells(m.n, m.k) * m.bits / 32, "packed codes size mismatch");
        require(m.scales.size() == groups, "scales size != N*K/groupSize");
        require(m.symmetric ? m.zeros.empty() : m.zeros.size() == groups, "zeros size mismatch");
        if (!m.gIdx.empty()) {
            require(m.gIdx.size() == std::size_t(m.k), "g_idx size != K");
            for (auto g : m.gIdx)
                require(g >= 0 && g < m.groups(), "g_idx value " + std::to_string(g) + " out of range");
        }
    }
    void operator()(const Nf4& m) const
    {
        checkShape(m.n, m.k, Nf4::kBlockSize);
        require(m.codes.size() == cells(m.n, m.k) / 8, "NF4 codes size mismatch");
        const std::size_t blocks = m.blocks();
        if (m.doubleQuant) {
            require(m.absmaxCodes.size() == blocks, "NF4 absmax codes size != blocks");
            require(m.absmaxScale.size() == (blocks + Nf4::kDoubleQuantBlock - 1) / Nf4::kDoubleQuantBlock,
                    "NF4 absmax scale size mismatch");
        } else {
            require(m.absmax.size() == blocks, "NF4 absmax size != blocks");
        }
    }
    void operator()(const GgufBlocks& m) const
    {
        const auto info = ggufBlockInfo(m.type);
        checkShape(m.n, m.k, info.elements);
        require(m.raw.size() == cells(m.n, m.k) / info.elements * info.bytes, "GGUF raw size mismatch");
    }
};

} // namespace

std::string formatName(const WeightMatrix& w) { return std::visit(NameOf{}, w); }
std::size_t weightBytes(const WeightMatrix& w) { return std::visit(BytesOf{}, w); }
void validate(const WeightMatrix& w) { std::visit(Validator{}, w); }

} // namespace qs::compute
