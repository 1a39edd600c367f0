#pragma once
// Group-wise quantization straight into the kernels' IntGroupwise layout, rows split over the
// thread pool: what AWQ judges each candidate scaling with (the codes of W diag(s), run on the
// backend as (X / s) Q(W diag(s))^T) and what it stores. Codes, scales and zeros are exactly
// those of quantizeGroupwise (groupwise.hpp) on the scaled matrix, packed as toIntGroupwise
// packs them.
#include "core/compute/weight_formats.hpp"
#include "core/quant/groupwise.hpp"
#include "core/quant/groupwise_storage.hpp"
#include "core/runtime/matrix.hpp"

namespace qs::quant {

// findParams (groupwise.hpp) with shrink 1: the same scale and zero, its range loop vectorized.
void awqGroupParams(const float* v, int count, const GroupGrid& grid, float& scale, float& zero);

// Whether quantizeScaledGroupwise can hold this grid: 2 to 4 bits, K a multiple of 32 and the
// group (groupSize <= 0 or >= k: per channel) a multiple of 32 that divides K.
bool canPackGroupwise(const GroupGrid& grid, int groupSize, int k);

// The codes of w diag(s) (s null: w itself), groups of groupSize columns stored as kernel
// groups of 128, 64 or 32 with the scale and zero repeated. Throws qs::Error when
// !canPackGroupwise or s does not match w's columns.
compute::IntGroupwise quantizeScaledGroupwise(const runtime::Mat& w, const runtime::Vec* s, const GroupGrid& grid,
                                              int groupSize);

// storeGroupwise(quantizeGroupwise(w, grid, groupSize), ...) with the rows split over the pool:
// the same matrix, format, runtime format and bits per weight.
StoredGroupwise storeGroupwiseParallel(const runtime::Mat& w, const GroupGrid& grid, int groupSize);

// quantizeGroupwise with the rows split over the pool (identical result).
GroupwiseResult quantizeGroupwiseParallel(const runtime::Mat& w, const GroupGrid& grid, int groupSize);

// dequantize (layer_metrics.hpp) with the rows split over the pool.
runtime::Mat dequantizeParallel(const compute::WeightMatrix& w);

} // namespace qs::quant
