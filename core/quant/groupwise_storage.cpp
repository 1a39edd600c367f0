#include "core/quant/groupwise_storage.hpp"

#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

namespace {

std::string codesFormat(const GroupwiseResult& r, int k, const GroupGrid& grid, bool gIdx)
{
    return "int" + std::to_string(grid.bits) +
           (r.groupSize >= k ? std::string("-channel") : "-g" + std::to_string(r.groupSize)) +
           (grid.symmetric ? "-sym" : "-asym") + (gIdx ? "-gidx" : "");
}

// Per-channel codes as int8 values code - zero, when they fit.
bool fitsInt8(const GroupwiseResult& r, int k, const GroupGrid& grid)
{
    return r.groupSize >= k && grid.bits >= 5 && (grid.symmetric || grid.bits <= 7);
}

compute::Int8PerChannel toInt8PerChannel(const GroupwiseResult& r, int n, int k)
{
    compute::Int8PerChannel m;
    m.n = n;
    m.k = k;
    m.scale = r.scales;
    m.q.resize(r.codes.size());
    for (int row = 0; row < n; ++row)
        for (int c = 0; c < k; ++c) {
            const std::size_t i = std::size_t(row) * std::size_t(k) + std::size_t(c);
            m.q[i] = std::int8_t(int(r.codes[i]) - int(r.zeros[std::size_t(row)]));
        }
    compute::validate(m);
    return m;
}

// The same scales and zeros repeated over groups of 128, 64 or 32 columns.
compute::IntGroupwise toRepeatedGroups(const GroupwiseResult& r, int n, int k, const GroupGrid& grid,
                                       std::vector<std::int32_t> gIdx, int& stored)
{
    stored = 0;
    for (int candidate : {128, 64, 32})
        if (r.groupSize % candidate == 0) {
            stored = candidate;
            break;
        }
    if (stored == 0)
        throw Error("group size " + std::to_string(r.groupSize) +
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
    for (auto& g : gIdx)
        g *= repeat; // the first of the repeated copies of the column's group
    return toIntGroupwise(e, n, k, grid, std::move(gIdx));
}

} // namespace

double groupwiseBitsPerWeight(int bits, int groupSize, int n, int k, bool symmetric, bool gIdx)
{
    const int groups = groupSize <= 0 || groupSize >= k ? 1 : k / groupSize;
    const double bitsTotal = double(n) * double(k) * bits + 32.0 * double(n) * groups * (symmetric ? 1 : 2) +
                             (gIdx ? 32.0 * double(k) : 0.0);
    return bitsTotal / (double(n) * double(k));
}

StoredGroupwise storeGroupwise(const GroupwiseResult& r, int n, int k, const GroupGrid& grid,
                               std::vector<std::int32_t> gIdx)
{
    if (grid.bits < 2 || grid.bits > 8)
        throw Error(std::to_string(grid.bits) + "-bit codes cannot be stored (2 to 8 bits)");
    if (r.groupSize >= k)
        gIdx.clear(); // one group per row: act-order changes nothing
    StoredGroupwise s;
    s.format = codesFormat(r, k, grid, !gIdx.empty());
    s.bitsPerWeight = groupwiseBitsPerWeight(grid.bits, r.groupSize, n, k, grid.symmetric, !gIdx.empty());
    if (grid.bits <= 4) {
        s.matrix = toRepeatedGroups(r, n, k, grid, std::move(gIdx), s.storedGroupSize);
        s.runtimeFormat = compute::formatName(s.matrix);
        if (s.storedGroupSize != r.groupSize)
            s.runtimeFormat += " (scales repeated)";
    } else if (fitsInt8(r, k, grid) && gIdx.empty()) {
        s.matrix = toInt8PerChannel(r, n, k);
        s.runtimeFormat = "int8-channel (exact: code - zero)";
    } else {
        const runtime::Mat dq = dequantizeGroupwise(r, n, k, gIdx);
        s.matrix = runtime::toDenseHalf(dq);
        s.runtimeFormat = "f16 (dequantized values: no kernel holds these codes)";
    }
    return s;
}

} // namespace qs::quant
