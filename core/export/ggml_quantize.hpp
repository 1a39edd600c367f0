#pragma once
// ggml block quantizers written from the format's specification and ggml's reference routines
// (quantize_row_*_ref in ggml-quants.c: the deterministic ones llama.cpp uses to create model
// files without an importance matrix). Block layouts are those gguf_dequant decodes:
//   Q8_0  32 values: f16 d, int8 q[32];                          x = q * d
//   Q4_0  32 values: f16 d, 16 bytes (low nibble j, high j+16);  x = (q - 8) * d
//   Q4_1  32 values: f16 d, f16 m, 16 bytes;                     x = q * d + m
//   Q5_0  32 values: f16 d, u32 high bits, 16 bytes;             x = (q - 16) * d
//   Q4_K 256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes
//   Q6_K 256 values: 128 bytes low 4 bits, 64 bytes high 2 bits, int8 scales[16], f16 d
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qs::exporting {

// ggml type numbers as GGUF stores them (the subset this project writes).
enum class GgmlType : std::uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q8_0 = 8, Q4_K = 12, Q6_K = 14, BF16 = 30 };

std::string_view ggmlTypeName(GgmlType t);
int ggmlBlockElements(GgmlType t); // 1 for F32/F16/BF16
int ggmlBlockBytes(GgmlType t);
// Bytes of a row of `cols` values; cols must be a multiple of the block size.
std::size_t ggmlRowBytes(GgmlType t, std::int64_t cols);

// f32 -> f16 / bf16 bits, round to nearest even (as ggml's GGML_FP32_TO_FP16 with F16C).
std::uint16_t f32ToF16(float v);
std::uint16_t f32ToBf16(float v);

// ggml's nearest_int: round half to even for |v| < 2^22.
int ggmlNearestInt(float v);

// Quantizes x (x.size() a multiple of the block size) into out (x.size() / elements * bytes).
// F32/F16/BF16 are written element by element. Throws qs::Error on a size mismatch.
void quantizeRow(GgmlType t, std::span<const float> x, std::span<std::uint8_t> out);
std::vector<std::uint8_t> quantizeRows(GgmlType t, std::span<const float> x);

} // namespace qs::exporting
