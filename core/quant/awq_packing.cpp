#include "core/quant/awq_packing.hpp"

// The per-group loops of the quantization run over every weight of a block once per candidate:
// vectorized at O3 (the project's O2 uses GCC's very-cheap cost model, which leaves them scalar).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include "core/compute/cpu/dequant.hpp"
#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qs::quant {

using runtime::Mat;
using runtime::Vec;

namespace {

int logicalGroup(int groupSize, int k) { return groupSize > 0 && groupSize < k ? groupSize : k; }

// The kernels' group holding a logical group: the largest of 128, 64, 32 dividing it.
int kernelGroup(int gs)
{
    for (int candidate : {128, 64, 32})
        if (gs % candidate == 0)
            return candidate;
    return 0;
}


} // namespace

void awqGroupParams(const float* v, int count, const GroupGrid& grid, float& scale, float& zero)
{
    // The range always includes 0; std::min / std::max's comparisons, in 8 lanes (min and max
    // are exact in any order) so that the loop vectorizes without fast-math.
    constexpr int kLanes = 8;
    float los[kLanes] = {}, his[kLanes] = {};
    const int whole = count / kLanes * kLanes;
    for (int i = 0; i < whole; i += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            los[l] = v[i + l] < los[l] ? v[i + l] : los[l];
            his[l] = his[l] < v[i + l] ? v[i + l] : his[l];
        }
    float lo = 0.0f, hi = 0.0f;
    for (int l = 0; l < kLanes; ++l) {
        lo = los[l] < lo ? los[l] : lo;
        hi = hi < his[l] ? his[l] : hi;
    }
    for (int i = whole; i < count; ++i) {
        lo = v[i] < lo ? v[i] : lo;
        hi = hi < v[i] ? v[i] : hi;
    }
    paramsFromRange(lo, hi, grid, scale, zero);
}

bool canPackGroupwise(const GroupGrid& grid, int groupSize, int k)
{
    if (grid.bits < 2 || grid.bits > 4 || k <= 0 || k % 32 != 0)
        return false;
    const int gs = logicalGroup(groupSize, k);
    return k % gs == 0 && kernelGroup(gs) != 0;
}

compute::IntGroupwise quantizeScaledGroupwise(const Mat& w, const Vec* s, const GroupGrid& grid, int groupSize)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (!canPackGroupwise(grid, groupSize, k))
        throw Error("awq: " + std::to_string(grid.bits) + "-bit groups of " + std::to_string(groupSize) + " over " +
                    std::to_string(k) + " columns have no kernel layout");
    if (s && s->size() != k)
        throw Error("awq: " + std::to_string(s->size()) + " scales for " + std::to_string(k) + " columns");
    const int gs = logicalGroup(groupSize, k);
    const int kg = kernelGroup(gs);
    const int repeat = gs / kg;
    const int groups = k / gs, kernelGroups = k / kg;
    const std::size_t wordsPerRow = std::size_t(k) * std::size_t(grid.bits) / 32;
    compute::IntGroupwise m;
    m.n = n;
    m.k = k;
    m.bits = grid.bits;
    m.groupSize = kg;
    m.symmetric = grid.symmetric;
    m.codes.resize(std::size_t(n) * wordsPerRow);
    m.scales.resize(std::size_t(n) * std::size_t(kernelGroups));
    if (!grid.symmetric)
        m.zeros.resize(m.scales.size());
    const int maxq = grid.maxq();
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            std::vector<float> scaled(static_cast<std::size_t>(gs));
            std::vector<std::uint8_t> codes(static_cast<std::size_t>(k));
            for (std::int64_t row = begin; row < end; ++row) {
                const float* src = w.row(row).data();
                for (int g = 0; g < groups; ++g) {
                    const float* v = src + std::size_t(g) * std::size_t(gs);
                    if (s) {
                        const float* sg = s->data() + std::size_t(g) * std::size_t(gs);
                        for (int c = 0; c < gs; ++c)
                            scaled[std::size_t(c)] = v[c] * sg[c];
                        v = scaled.data();
                    }
                    float scale, zero;
                    awqGroupParams(v, gs, grid, scale, zero);
                    std::uint8_t* out = codes.data() + std::size_t(g) * std::size_t(gs);
                    // quantizeCode written out with rint (nearbyint's value without its
                    // exception-flag guarantee) so that the loop vectorizes.
                    // Locals: the byte stores could alias anything referenced.
                    const float top = float(maxq), sc = scale, zr = zero;
                    const int count = gs;
                    for (int c = 0; c < count; ++c) {
                        float q = std::rint(v[c] / sc) + zr;
                        q = q < 0.0f ? 0.0f : (q > top ? top : q);
                        out[c] = std::uint8_t(int(q));
                    }
                    const std::size_t at = std::size_t(row) * std::size_t(kernelGroups) + std::size_t(g) * std::size_t(repeat);
                    std::fill_n(m.scales.begin() + std::ptrdiff_t(at), repeat, scale);
                    if (!grid.symmetric)
                        std::fill_n(m.zeros.begin() + std::ptrdiff_t(at), repeat, zero);
                }
                packCodesRow(codes.data(), k, grid.bits, m.codes.data() + std::size_t(row) * wordsPerRow);
            }
        },
        16);
    return m;
}

StoredGroupwise storeGroupwiseParallel(const Mat& w, const GroupGrid& grid, int groupSize)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (!canPackGroupwise(grid, groupSize, k))
        return storeGroupwise(quantizeGroupwiseParallel(w, grid, groupSize), n, k, grid);
    const int gs = logicalGroup(groupSize, k);
    StoredGroupwise s;
    s.matrix = quantizeScaledGroupwise(w, nullptr, grid, groupSize);
    s.storedGroupSize = kernelGroup(gs);
    s.format = "int" + std::to_string(grid.bits) + (gs >= k ? std::string("-channel") : "-g" + std::to_string(gs)) +
               (grid.symmetric ? "-sym" : "-asym");
    s.runtimeFormat = compute::formatName(s.matrix) + (s.storedGroupSize != gs ? " (scales repeated)" : "");
    s.bitsPerWeight = groupwiseBitsPerWeight(grid.bits, gs, n, k, grid.symmetric, false);
    return s;
}

GroupwiseResult quantizeGroupwiseParallel(const Mat& w, const GroupGrid& grid, int groupSize)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (n == 0)
        return quantizeGroupwise(w, grid, groupSize);
    GroupwiseResult r = quantizeGroupwise(w.topRows(1), grid, groupSize); // checks the group size
    const std::size_t perRow = std::size_t(r.groups);
    r.codes.resize(std::size_t(n) * std::size_t(k));
    r.scales.resize(std::size_t(n) * perRow);
    r.zeros.resize(r.scales.size());
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            const GroupwiseResult part = quantizeGroupwise(w.middleRows(begin, end - begin), grid, groupSize);
            std::copy(part.codes.begin(), part.codes.end(), r.codes.begin() + std::ptrdiff_t(begin * k));
            std::copy(part.scales.begin(), part.scales.end(), r.scales.begin() + std::ptrdiff_t(std::size_t(begin) * perRow));
            std::copy(part.zeros.begin(), part.zeros.end(), r.zeros.begin() + std::ptrdiff_t(std::size_t(begin) * perRow));
        },
        16);
    return r;
}

Mat dequantizeParallel(const compute::WeightMatrix& w)
{
    Mat out(compute::rowsOf(w), compute::colsOf(w));
    ThreadPool::shared().parallelFor(
        out.rows(), [&](std::int64_t b, std::int64_t e) { compute::dequantRows(w, int(b), int(e), out.row(b).data()); }, 16);
    return out;
}

} // namespace qs::quant
