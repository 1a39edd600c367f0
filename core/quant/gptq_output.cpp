#include "core/quant/gptq_output.hpp"

#include "core/util/error.hpp"

namespace qs::quant {

StoredGroupwise storeGptqResult(const GptqResult& result, int n, int k, const GroupGrid& grid)
{
    if (grid.bits == 8 && (!grid.symmetric || result.q.groupSize < k))
        throw Error("gptq: 8 bits is stored as int8 per channel, which needs symmetric per-channel params");
    return storeGroupwise(result.q, n, k, grid, result.gIdx);
}

} // namespace qs::quant
