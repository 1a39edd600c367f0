#include "core/quant/gptq_output.hpp"

#include "core/util/error.hpp"

namespace qs::quant {

StoredGptq storeGptqResult(const GptqResult& result, int n, int k, const GroupGrid& grid)
{
    const auto& r = result.q;
    if (grid.bits == 8) {
        if (!grid.symmetric || r.groups != 1)
            throw Error("gptq: 8 bits is stored as int8 per channel, which needs symmetric per-channel params");
        compute::Int8PerChannel m;
        m.n = n;
        m.k = k;
        m.scale = r.scales;
        m.q.resize(r.codes.size());
        for (std::size_t i = 0; i < r.codes.size(); ++i)
            m.q[i] = std::int8_t(int(r.codes[i]) - 128); // symmetric zero point 128 is implied
        compute::validate(m);
        return {std::move(m), 0};
    }
    int stored = 0;
    for (int candidate : {128, 64, 32})
        if (r.groupSize % candidate == 0) {
            stored = candidate;
            break;
        }
    if (stored == 0)
        throw Error("gptq: group size " + std::to_string(r.groupSize) +
                    " cannot be stored: the kernels hold groups of 32, 64 or 128 (or multiples of 32)");
    const int repeat = r.groupSize / stored;
    GroupwiseResult e;
    e.groupSize = stored;
    e.groups = k / stored;
    e.codes = r.codes;
    e.scales.resize(std::size_t(n) * std::size_t(e.groups));
    e.zeros.resize(e.scales.size());
    for (int row = 0; row < n; ++row)
        for (int g = 0; g < e.groups; ++g) {
            const std::size_t from = std::size_t(row) * std::size_t(r.groups) + std::size_t(g / repeat);
            const std::size_t to = std::size_t(row) * std::size_t(e.groups) + std::size_t(g);
            e.scales[to] = r.scales[from];
            e.zeros[to] = r.zeros[from];
        }
    std::vector<std::int32_t> gIdx = result.gIdx;
    for (auto& g : gIdx)
        g *= repeat; // the first of the repeated copies of the column's group
    return {toIntGroupwise(e, n, k, grid, std::move(gIdx)), stored};
}

} // namespace qs::quant
