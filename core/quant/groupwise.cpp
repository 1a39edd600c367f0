#include "core/quant/groupwise.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qs::quant {

void paramsFromRange(float lo, float hi, const GroupGrid& grid, float& scale, float& zero)
{
    compute::groupGridParams(lo, hi, grid.bits, grid.symmetric, scale, zero);
}

void findParams(const float* w, int count, int stride, const GroupGrid& grid, float& scale, float& zero, float shrink)
{
    float lo = 0.0f, hi = 0.0f; // the range always includes 0
    for (int i = 0; i < count; ++i) {
        const float v = w[std::size_t(i) * std::size_t(stride)];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    paramsFromRange(lo * shrink, hi * shrink, grid, scale, zero);
}

GroupwiseResult quantizeGroupwise(const runtime::Mat& w, const GroupGrid& grid, int groupSize)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (groupSize <= 0 || groupSize >= k)
        groupSize = k;
    if (k % groupSize != 0)
        throw Error("group size " + std::to_string(groupSize) + " does not divide " + std::to_string(k) + " input features");
    GroupwiseResult r;
    r.groupSize = groupSize;
    r.groups = k / groupSize;
    r.codes.resize(std::size_t(n) * std::size_t(k));
    r.scales.resize(std::size_t(n) * std::size_t(r.groups));
    r.zeros.resize(r.scales.size());
    const int maxq = grid.maxq();
    for (int row = 0; row < n; ++row)
        for (int g = 0; g < r.groups; ++g) {
            const float* src = w.row(row).data() + std::size_t(g) * std::size_t(groupSize);
            float scale, zero;
            findParams(src, groupSize, 1, grid, scale, zero);
            r.scales[std::size_t(row) * std::size_t(r.groups) + std::size_t(g)] = scale;
            r.zeros[std::size_t(row) * std::size_t(r.groups) + std::size_t(g)] = zero;
            for (int c = 0; c < groupSize; ++c)
                r.codes[std::size_t(row) * std::size_t(k) + std::size_t(g * groupSize + c)] =
                    std::uint8_t(quantizeCode(src[c], scale, zero, maxq));
        }
    return r;
}

runtime::Mat dequantizeGroupwise(const GroupwiseResult& r, int n, int k, const std::vector<std::int32_t>& gIdx)
{
    runtime::Mat out(n, k);
    for (int row = 0; row < n; ++row)
        for (int c = 0; c < k; ++c) {
            const int g = gIdx.empty() ? c / r.groupSize : gIdx[std::size_t(c)];
            const std::size_t gi = std::size_t(row) * std::size_t(r.groups) + std::size_t(g);
            out(row, c) = dequantizeCode(float(r.codes[std::size_t(row) * std::size_t(k) + std::size_t(c)]), r.scales[gi],
                                         r.zeros[gi]);
        }
    return out;
}

void packCodesRow(const std::uint8_t* codes, int k, int bits, std::uint32_t* dst)
{
    if (bits == 4) {
        for (int w = 0; w < k / 8; ++w) {
            const std::uint8_t* c = codes + std::size_t(w) * 8;
            dst[w] = std::uint32_t(c[0]) | std::uint32_t(c[1]) << 4 | std::uint32_t(c[2]) << 8 | std::uint32_t(c[3]) << 12 |
                     std::uint32_t(c[4]) << 16 | std::uint32_t(c[5]) << 20 | std::uint32_t(c[6]) << 24 |
                     std::uint32_t(c[7]) << 28;
        }
        return;
    }
    std::memset(dst, 0, std::size_t(k) * std::size_t(bits) / 8);
    for (int c = 0; c < k; ++c) {
        const std::uint64_t v = codes[c];
        const std::size_t bit = std::size_t(c) * std::size_t(bits);
        const std::size_t word = bit >> 5;
        const unsigned shift = unsigned(bit & 31);
        dst[word] |= std::uint32_t(v << shift);
        if (shift + unsigned(bits) > 32)
            dst[word + 1] |= std::uint32_t(v >> (32 - shift));
    }
}

std::vector<std::uint32_t> packCodes(const std::vector<std::uint8_t>& codes, int n, int k, int bits)
{
    if (k % 32 != 0)
        throw Error("packing needs a multiple of 32 input features, got " + std::to_string(k));
    const std::size_t wordsPerRow = std::size_t(k) * std::size_t(bits) / 32;
    std::vector<std::uint32_t> out(std::size_t(n) * wordsPerRow, 0u);
    // Rows are independent bit streams: split over the pool (a 7B-width linear has 45M codes).
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t row = r0; row < r1; ++row) {
                packCodesRow(codes.data() + std::size_t(row) * std::size_t(k), k, bits,
                             out.data() + std::size_t(row) * wordsPerRow);
            }
        },
        std::int64_t(n) * k < (1 << 18) ? n : 16);
    return out;
}

compute::IntGroupwise toIntGroupwise(const GroupwiseResult& r, int n, int k, const GroupGrid& grid,
                                     std::vector<std::int32_t> gIdx)
{
    compute::IntGroupwise w;
    w.n = n;
    w.k = k;
    w.bits = grid.bits;
    w.groupSize = r.groupSize;
    w.symmetric = grid.symmetric;
    w.codes = packCodes(r.codes, n, k, grid.bits);
    w.scales = r.scales;
    if (grid.symmetric) {
        const float implied = float(1 << (grid.bits - 1));
        for (float z : r.zeros)
            if (z != implied)
                throw compute::ComputeError("symmetric group with zero point " + std::to_string(z) + " instead of " +
                                            std::to_string(implied));
    } else {
        w.zeros = r.zeros;
    }
    w.gIdx = std::move(gIdx);
    compute::validate(w);
    return w;
}

} // namespace qs::quant
