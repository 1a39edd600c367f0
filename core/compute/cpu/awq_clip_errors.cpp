// The CPU twin of the AWQ clip search's errors (Backend::awqClipErrors): blocks of rows x one
// group, each shrink's candidates fake-quantized row by row, then diff * G_g and a row-wise dot
// (one rows x gs times gs x gs product per group and shrink), rows split over the pool.
#include "core/compute/backend.hpp"
#include "core/compute/group_grid.hpp"
#include "core/compute/weight_formats.hpp"
#include "core/util/thread_pool.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <string>

namespace qs::compute {
namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Clamps one row group to [-m, m] and fake-quantizes it in place.
void clampAndQuantize(float* w, int count, float m, int bits, bool symmetric)
{
    float lo = 0.0f, hi = 0.0f; // the range always includes 0
    for (int i = 0; i < count; ++i) {
        w[i] = std::clamp(w[i], -m, m);
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
    }
    float scale, zero;
    groupGridParams(lo, hi, bits, symmetric, scale, zero);
    const int maxq = (1 << bits) - 1;
    for (int i = 0; i < count; ++i)
        w[i] = groupGridValue(groupGridCode(w[i], scale, zero, maxq), scale, zero);
}

// Rows one thread handles at a time: a 128 x 128 candidate block stays in L2.
constexpr int kRowBlock = 128;

} // namespace

void checkAwqClipArgs(const AwqClipProblem& p, const float* errors, const float* orgMax)
{
    if (!p.w || !p.gram || !errors || !orgMax)
        throw ComputeError("awqClipErrors: null pointer");
    if (p.n <= 0 || p.k <= 0 || p.groupSize <= 0)
        throw ComputeError("awqClipErrors: sizes must be positive (n " + std::to_string(p.n) + ", k " +
                           std::to_string(p.k) + ", group " + std::to_string(p.groupSize) + ")");
    if (p.k % p.groupSize != 0)
        throw ComputeError("awqClipErrors: group size " + std::to_string(p.groupSize) + " does not divide " +
                           std::to_string(p.k));
    if (p.bits < 2 || p.bits > 8)
        throw ComputeError("awqClipErrors: " + std::to_string(p.bits) + " bits (2 to 8 supported)");
    if (p.shrinks.empty())
        throw ComputeError("awqClipErrors: no shrinks");
    for (float s : p.shrinks)
        if (!(s > 0.0f && s <= 1.0f))
            throw ComputeError("awqClipErrors: shrink " + std::to_string(s) + " outside (0, 1]");
    const double limit = double(1ull << 40);
    const double n = p.n, k = p.k, gs = p.groupSize;
    if (n * k * 4 > limit || k * gs * 4 > limit || double(p.shrinks.size()) * n * (k / gs) * 4 > limit)
        throw ComputeError("awqClipErrors: arrays past 2^40 bytes");
}

void awqClipErrorsCpu(const AwqClipProblem& p, float* errors, float* orgMax)
{
    checkAwqClipArgs(p, errors, orgMax);
    const int n = p.n, k = p.k, gs = p.groupSize, groups = p.groups();
    const int steps = int(p.shrinks.size());
    const Eigen::Map<const RowMajorF> w(p.w, n, k);
    const std::size_t plane = std::size_t(n) * std::size_t(groups);
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            RowMajorF candidate, diff, prod;
            for (std::int64_t r0 = begin; r0 < end; r0 += kRowBlock) {
                const int rows = int(std::min<std::int64_t>(kRowBlock, end - r0));
                for (int g = 0; g < groups; ++g) {
                    const auto wg = w.block(r0, Eigen::Index(g) * gs, rows, gs);
                    const Eigen::Map<const RowMajorF> gram(p.gram + std::size_t(g) * std::size_t(gs) * std::size_t(gs), gs, gs);
                    for (int row = 0; row < rows; ++row)
                        orgMax[std::size_t(r0 + row) * std::size_t(groups) + std::size_t(g)] = wg.row(row).cwiseAbs().maxCoeff();
                    for (int i = 0; i < steps; ++i) {
                        candidate = wg;
                        for (int row = 0; row < rows; ++row) {
                            const float m = orgMax[std::size_t(r0 + row) * std::size_t(groups) + std::size_t(g)] *
                                            p.shrinks[std::size_t(i)];
                            clampAndQuantize(candidate.row(row).data(), gs, m, p.bits, p.symmetric);
                        }
                        diff = wg - candidate;
                        prod.noalias() = diff * gram;
                        float* err = errors + std::size_t(i) * plane;
                        for (int row = 0; row < rows; ++row)
                            err[std::size_t(r0 + row) * std::size_t(groups) + std::size_t(g)] = prod.row(row).dot(diff.row(row));
                    }
                }
            }
        },
        kRowBlock);
}

} // namespace qs::compute
