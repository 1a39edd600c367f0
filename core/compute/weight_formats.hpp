#pragma once
// Weight formats the compute kernels read, as plain structs. Every matrix is [N rows (output
// features)][K columns (input features)], row-major, so Y = X * dequant(W)^T.
// Packed codes use one layout for every bit width: a little-endian bit stream per row, code k of
// a row at bit k*bits, rows starting on a 32-bit word (K is a multiple of 32, so a row is
// K*bits/32 words and 32 codes are exactly `bits` words). GPTQ/AWQ/bitsandbytes files pack
// differently; the quant and export modules convert to and from this layout.
#include "core/util/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace qs::compute {

// Bad shapes or inconsistent array sizes handed to a compute op.
class ComputeError : public qs::Error {
public:
    using qs::Error::Error;
};

// f16 or bf16 bits, [N][K].
struct DenseHalf {
    int n = 0, k = 0;
    bool bf16 = false;
    std::vector<std::uint16_t> bits;
};

// w[n][k] = q[n][k] * scale[n] (Absmax / SmoothQuant weights).
struct Int8PerChannel {
    int n = 0, k = 0;
    std::vector<std::int8_t> q;  // [N][K]
    std::vector<float> scale;    // [N]
};

// Group-wise 2/3/4-bit codes (RTN, GPTQ, AWQ).
// symmetric: w = (q - 2^(bits-1)) * scale[n][g];  asymmetric: w = (q - zero[n][g]) * scale[n][g]
// with g = gIdx ? gIdx[k] : k / groupSize (gIdx: GPTQ act-order, values < K / groupSize).
struct IntGroupwise {
    int n = 0, k = 0;
    int bits = 4;        // 2, 3 or 4
    int groupSize = 128; // 32, 64 or 128; K % groupSize == 0
    bool symmetric = true;
    std::vector<std::uint32_t> codes;  // [N][K*bits/32] bit stream
    std::vector<float> scales;         // [N][K/groupSize]
    std::vector<float> zeros;          // [N][K/groupSize], empty when symmetric; in code units
    std::vector<std::int32_t> gIdx;    // [K] or empty
    int groups() const { return groupSize > 0 ? k / groupSize : 0; }
};

// The 16 NF4 levels (bitsandbytes, QLoRA paper).
extern const std::array<float, 16> kNf4Levels;

// NF4, blocksize 64 over the row-major flattened matrix (K % 64 == 0, so blocks stay in rows):
// w = kNf4Levels[code] * absmax[block]. absmax is either plain f32 or double-quantized:
// absmax[b] = absmaxCodebook[absmaxCodes[b]] * absmaxScale[b / 256] + absmaxOffset.
struct Nf4 {
    static constexpr int kBlockSize = 64;
    static constexpr int kDoubleQuantBlock = 256;
    int n = 0, k = 0;
    std::vector<std::uint32_t> codes;  // 4-bit bit stream, [N][K/8] words
    bool doubleQuant = false;
    std::vector<float> absmax;                 // [N*K/64] when !doubleQuant
    std::vector<std::uint8_t> absmaxCodes;     // [N*K/64] when doubleQuant
    std::vector<float> absmaxScale;            // [ceil(N*K/64 / 256)]
    std::array<float, 256> absmaxCodebook{};   // bitsandbytes' dynamic 8-bit map
    float absmaxOffset = 0.0f;
    std::size_t blocks() const { return std::size_t(n) * std::size_t(k) / kBlockSize; }
};

// ggml block types by their GGUF type number.
enum class GgufBlockType : std::uint32_t { Q4_0 = 2, Q4_1 = 3, Q8_0 = 8, Q4_K = 12, Q6_K = 14 };
struct GgufBlockInfo {
    int elements;  // per block
    int bytes;     // per block
};
GgufBlockInfo ggufBlockInfo(GgufBlockType t);
const char* ggufBlockName(GgufBlockType t);

// Raw ggml blocks exactly as stored in a GGUF file, [N][K/elements] blocks.
struct GgufBlocks {
    int n = 0, k = 0;
    GgufBlockType type = GgufBlockType::Q8_0;
    std::vector<std::uint8_t> raw;
};

using WeightMatrix = std::variant<DenseHalf, Int8PerChannel, IntGroupwise, Nf4, GgufBlocks>;

int rowsOf(const WeightMatrix& w);
int colsOf(const WeightMatrix& w);
std::string formatName(const WeightMatrix& w);  // "f16", "int4-g128-asym", "nf4-dq", "Q4_K"
std::size_t weightBytes(const WeightMatrix& w);  // every array the kernel reads

// Throws ComputeError naming the first inconsistency (shape limits, array sizes, code ranges).
void validate(const WeightMatrix& w);

} // namespace qs::compute
