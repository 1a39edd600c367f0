#pragma once
// The packed tensors of Hugging Face GPTQ and AWQ checkpoints, and their conversion to and
// from compute::IntGroupwise (weight_formats.hpp). Layouts, as AutoGPTQ and AutoAWQ write them:
//
// GPTQ (AutoGPTQ QuantLinear.pack, 2/3/4/8 bits):
//   qweight int32 [K*bits/32][N]: column n holds the codes q[n][0..K) as one little-endian bit
//     stream (code k at bit k*bits; for 3 bits a code may straddle two words), word w of that
//     stream in qweight[w][n].
//   qzeros  int32 [G][N*bits/32]: row g holds zero[0..N)[g] as the same kind of bit stream.
//     v1 ("gptq", AutoGPTQ): the stored value is zero - 1; v2 ("gptq_v2"): the zero itself.
//     Symmetric grids store zero = 2^(bits-1) (so 7 for 4 bits in v1).
//   scales  f16 [G][N], g_idx int32 [K] (group of input column k; k / group_size without act-order).
// AWQ GEMM (AutoAWQ WQLinear_GEMM, 4 bits):
//   qweight int32 [K][N/8]: word j of row k holds output columns 8j..8j+7, nibble i (bits 4i..4i+3)
//     holding column 8j + kAwqOrder[i].  qzeros int32 [G][N/8] the same over zeros, scales f16 [G][N].
//   AWQ stores the zero point itself (no minus one).
#include "core/compute/weight_formats.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace qs::io {

inline constexpr std::array<int, 8> kAwqOrder = {0, 2, 4, 6, 1, 3, 5, 7};

// ---- bit-level packing (exposed for tests) ----

// qweight [K*bits/32][N] from codes [N][K] (row-major, each < 2^bits). K*bits % 32 == 0.
std::vector<std::int32_t> packGptqQweight(const std::vector<std::uint8_t>& codes, int n, int k, int bits);
std::vector<std::uint8_t> unpackGptqQweight(const std::vector<std::int32_t>& qweight, int n, int k, int bits);
// qzeros [G][N*bits/32] from stored values [G][N] (already minus one for v1, each < 2^bits).
std::vector<std::int32_t> packGptqQzeros(const std::vector<std::uint8_t>& stored, int groups, int n, int bits);
std::vector<std::uint8_t> unpackGptqQzeros(const std::vector<std::int32_t>& qzeros, int groups, int n, int bits);
// AWQ: rows x [N] 4-bit values -> rows x [N/8] words with the order map; N % 8 == 0.
std::vector<std::int32_t> packAwqRows(const std::vector<std::uint8_t>& values, int rows, int n);
std::vector<std::uint8_t> unpackAwqRows(const std::vector<std::int32_t>& words, int rows, int n);

// Codes [N][K] of an IntGroupwise (its bit stream unpacked), and the reverse.
std::vector<std::uint8_t> unpackComputeCodes(const compute::IntGroupwise& m);
std::vector<std::uint32_t> packComputeCodes(const std::vector<std::uint8_t>& codes, int n, int k, int bits);

// f32 <-> f16 bits, round to nearest even.
std::uint16_t toF16Bits(float x);
float roundToF16(float x);

// ---- whole linears ----

struct GptqLinear {
    int n = 0, k = 0, bits = 4, groupSize = 128;
    std::vector<std::int32_t> qweight;  // [K*bits/32][N]
    std::vector<std::int32_t> qzeros;   // [G][N*bits/32]
    std::vector<std::uint16_t> scales;  // f16 [G][N]
    std::vector<std::int32_t> gIdx;     // [K]
    int groups() const { return k / groupSize; }
};

struct AwqLinear {
    int n = 0, k = 0, groupSize = 128;
    std::vector<std::int32_t> qweight;  // [K][N/8]
    std::vector<std::int32_t> qzeros;   // [G][N/8]
    std::vector<std::uint16_t> scales;  // f16 [G][N]
    int groups() const { return k / groupSize; }
};

// Throws qs::Error naming `what` (the layer) when the matrix cannot be written losslessly:
// a zero point that is not an integer in [0, 2^bits) (or 0 in v1, which AutoGPTQ's zero - 1
// cannot hold), N not a multiple of 32/bits words, a scale f16 cannot hold (inf).
GptqLinear toGptq(const compute::IntGroupwise& m, bool v2, const std::string& what);
AwqLinear toAwq(const compute::IntGroupwise& m, const std::string& what);

// The kernels' format from file tensors (scales widened from f16). Symmetric files (sym = true)
// must hold zero = 2^(bits-1) everywhere. Group sizes the kernels do not hold directly (a
// multiple of 32 above 128, or the whole row) are stored as groups of 128/64/32 repeating the
// same scale and zero. Throws qs::Error naming `what` for codes/zeros/g_idx out of range.
compute::IntGroupwise fromGptq(const GptqLinear& g, bool v2, bool sym, const std::string& what);
compute::IntGroupwise fromAwq(const AwqLinear& a, const std::string& what);

} // namespace qs::io

namespace qs::io {

// 8-bit GPTQ (the project holds it as symmetric int8 per channel: w = (q - 128) * scale):
// one group over the whole row, zero 128, no act-order.
GptqLinear toGptqInt8(const compute::Int8PerChannel& m, bool v2, const std::string& what);
compute::Int8PerChannel fromGptqInt8(const GptqLinear& g, bool v2, const std::string& what);

} // namespace qs::io
