#pragma once
// GPTQ's result in a format the kernels run (groupwise_storage.hpp): group-wise 2/3/4 bits as
// IntGroupwise with g_idx under act-order, per channel or groups of 256 as repeated groups of
// 128/64/32, 8 bits symmetric per channel as Int8PerChannel.
#include "core/quant/gptq_solver.hpp"
#include "core/quant/groupwise_storage.hpp"

namespace qs::quant {

// Throws qs::Error when the result cannot be represented (naming why).
StoredGroupwise storeGptqResult(const GptqResult& result, int n, int k, const GroupGrid& grid);

} // namespace qs::quant
