#pragma once
// GPTQ's result in a format the kernels run. Group-wise 2/3/4 bits go to IntGroupwise (with
// g_idx under act-order). Groups the kernels do not hold directly (per channel, or 256) are
// stored as groups of 128/64/32 that repeat the same scale and zero: the same numbers, a little
// more metadata. 8 bits is stored as Int8PerChannel, which needs symmetric per-channel params.
#include "core/compute/weight_formats.hpp"
#include "core/quant/gptq_solver.hpp"

namespace qs::quant {

struct StoredGptq {
    compute::WeightMatrix matrix;
    int storedGroupSize = 0; // 0 for int8 per channel
};

// Throws qs::Error when the result cannot be represented (naming why).
StoredGptq storeGptqResult(const GptqResult& result, int n, int k, const GroupGrid& grid);

} // namespace qs::quant
