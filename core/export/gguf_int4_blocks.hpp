#pragma once
// GPTQ/AWQ/RTN results at 4 bits in groups of 32 map onto ggml's Q4_0/Q4_1 blocks code for code:
//   symmetric  w = (q - 8) * s        -> Q4_0: d = f16(s), the same codes;
//   asymmetric w = (q - z) * s        -> Q4_1: d = f16(s), m = f16(-z * s), the same codes.
// Only the f16 rounding of d and m changes the values: |dw| <= 2^-11 (|q - 8| |s|) for Q4_0 and
// <= 2^-11 (q |s| + |z s|) for Q4_1, and none at all where s (and z s) are exact in f16.
#include "core/compute/weight_formats.hpp"
#include "core/export/ggml_quantize.hpp"

#include <cstdint>
#include <vector>

namespace qs::exporting {

// Whether w is 4-bit, groups of 32 in column order (no act-order g_idx) and K % 32 == 0.
bool mapsToGgufBlocks(const compute::IntGroupwise& w);
GgmlType ggufBlockTypeFor(const compute::IntGroupwise& w); // Q4_0 or Q4_1

// The blocks of every row, output row r taken from w's row rowOrder[r] (identity when empty).
// Throws qs::Error when !mapsToGgufBlocks(w).
std::vector<std::uint8_t> toGgufBlocks(const compute::IntGroupwise& w, const std::vector<int>& rowOrder = {});

} // namespace qs::exporting
