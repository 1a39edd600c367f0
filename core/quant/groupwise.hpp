#pragma once
// Uniform integer quantization on groups of input columns, the grid RTN, GPTQ and AWQ share:
//   asymmetric: q = clamp(round(w / s) + z, 0, 2^b - 1), s = (max - min) / (2^b - 1), z = round(-min / s)
//   symmetric:  q = clamp(round(w / s) + 2^(b-1), 0, 2^b - 1), s = 2 absmax / (2^b - 1)
// as GPTQ's and AutoAWQ's reference code computes them.
#include "core/compute/group_grid.hpp"
#include "core/compute/weight_formats.hpp"
#include "core/runtime/matrix.hpp"

#include <cstdint>
#include <vector>

namespace qs::quant {

struct GroupGrid {
    int bits = 4;
    bool symmetric = false;
    int maxq() const { return (1 << bits) - 1; }
};

// Scale and zero of a group whose values span [lo, hi] (lo <= 0 <= hi), GPTQ's find_params rule.
void paramsFromRange(float lo, float hi, const GroupGrid& grid, float& scale, float& zero);

// Scale and zero (in code units) for one group's values, GPTQ's Quantizer.find_params:
// range widened to include 0; asymmetric zero = round(-min/scale); symmetric zero = (maxq+1)/2
// with scale = 2*absmax/maxq. A zero range gets scale 1 (asym: range [-1, 1]).
void findParams(const float* w, int count, int stride, const GroupGrid& grid, float& scale, float& zero,
                float shrink = 1.0f);

inline float quantizeCode(float w, float scale, float zero, int maxq) { return compute::groupGridCode(w, scale, zero, maxq); }
inline float dequantizeCode(float q, float scale, float zero) { return compute::groupGridValue(q, scale, zero); }

// Round-to-nearest of a whole matrix [N][K] with groups of groupSize columns (0: the whole row,
// i.e. per output channel). Returns the IntGroupwise layout the kernels read when bits <= 4 and
// the group fits the kernels (K % 32 == 0); codes/scales/zeros are always returned in `codes`.
struct GroupwiseResult {
    std::vector<std::uint8_t> codes; // [N][K]
    std::vector<float> scales;       // [N][groups]
    std::vector<float> zeros;        // [N][groups]
    int groups = 1;
    int groupSize = 0;
};
GroupwiseResult quantizeGroupwise(const runtime::Mat& w, const GroupGrid& grid, int groupSize);
runtime::Mat dequantizeGroupwise(const GroupwiseResult& r, int n, int k, const std::vector<std::int32_t>& gIdx = {});

// Packs codes into the compute layout (bit stream per row, rows on 32-bit words). bits 2, 3, 4.
std::vector<std::uint32_t> packCodes(const std::vector<std::uint8_t>& codes, int n, int k, int bits);
// One row of k codes into dst (k * bits / 32 words, overwritten), as packCodes packs each row:
// a little-endian bit stream. k must be a multiple of 32.
void packCodesRow(const std::uint8_t* codes, int k, int bits, std::uint32_t* dst);

// The IntGroupwise the kernels run (bits 2..4). Symmetric grids keep zero = 2^(bits-1) implied
// (compute's symmetric convention), so this requires zero == 2^(bits-1) for every group when
// grid.symmetric; throws compute::ComputeError otherwise.
compute::IntGroupwise toIntGroupwise(const GroupwiseResult& r, int n, int k, const GroupGrid& grid,
                                     std::vector<std::int32_t> gIdx = {});

} // namespace qs::quant
