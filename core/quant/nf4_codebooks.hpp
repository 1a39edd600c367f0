#pragma once
// The codebooks of bitsandbytes' 4-bit and blockwise 8-bit quantization and its rules for
// picking a code, reproduced value for value so our NF4/FP4 weights equal what
// bitsandbytes.functional.quantize_4bit writes:
//   - NF4: compute::kNf4Levels; a value goes to the code whose decision-tree threshold it
//     exceeds (csrc kernels dQuantizeNF4: thresholds are the midpoints, a tie goes down).
//   - FP4 (E2M1, bias 3, no inf/nan): get_4bit_type("fp4") = {0, 0.0625, 8, 12, 4, 6, 2, 3,
//     -0, -0.0625, -8, -12, -4, -6, -2, -3} / 12; dQuantizeFP4 picks by |x| with the sign bit
//     set for x < 0.
//   - the signed dynamic 8-bit map (create_dynamic_map(signed=True, max_exponent_bits=7,
//     total_bits=8)) that double quantization stores the absmax constants in, and the binary
//     search dQuantize that picks its codes.
#include <array>
#include <cstdint>

namespace qs::quant {

// dQuantizeNF4's 15 thresholds, ascending, as the kernel writes them (float literals of the
// midpoints between consecutive kNf4Levels computed in double).
extern const std::array<float, 15> kNf4Thresholds;
// x already divided by the block's absmax (bitsandbytes multiplies by 1/absmax).
std::uint8_t nf4Code(float x);

// FP4 values by code (bitsandbytes' order: bit 3 sign, bits 2..0 the E2M1 magnitude code).
extern const std::array<float, 16> kFp4Levels;
std::uint8_t fp4Code(float x);

// The 256 values of create_dynamic_map(signed=True), ascending: 127 negatives, 0, 127
// positives and 1.0, built with float32 arithmetic as torch does.
const std::array<float, 256>& dynamicMap8Bit();
// bitsandbytes' dQuantize<0>: a 7-step binary search from the middle, then the nearer of the
// two neighbours by midpoint. x is normalized to [-1, 1].
std::uint8_t dynamicCode(const std::array<float, 256>& map, float x);

} // namespace qs::quant
