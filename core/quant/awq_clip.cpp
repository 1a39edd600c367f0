#include "core/quant/awq_clip.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>

namespace qs::quant {

using runtime::Mat;

namespace {

int effectiveGroup(int groupSize, int k)
{
    const int gs = groupSize > 0 && groupSize < k ? groupSize : k;
    if (k % gs != 0)
        throw Error("awq clip: group size " + std::to_string(gs) + " does not divide " + std::to_string(k));
    return gs;
}

// Clamps one row group to [-m, m] and fake-quantizes it in place (grid of groupwise.hpp).
void clampAndQuantize(float* w, int count, float m, const GroupGrid& grid)
{
    for (int i = 0; i < count; ++i)
        w[i] = std::clamp(w[i], -m, m);
    float scale, zero;
    findParams(w, count, 1, grid, scale, zero);
    for (int i = 0; i < count; ++i)
        w[i] = dequantizeCode(quantizeCode(w[i], scale, zero, grid.maxq()), scale, zero);
}

// Rows of w one thread handles at a time (the direct form).
constexpr int kRowBlock = 128;

// The Gram form on backend (a GPU) or the CPU twin: the diagonal gs x gs blocks of X^T X / T
// on the host (groups T gs^2 multiply-adds, split over the pool), the candidates' errors there.
void gramFormErrors(const Mat& w, const Mat& x, const GroupGrid& grid, int gs, compute::Backend* backend,
                    AwqClipCandidates& c)
{
    const int n = int(w.rows()), k = int(w.cols()), groups = k / gs;
    const float tokens = float(x.rows());
    const std::size_t block = std::size_t(gs) * std::size_t(gs);
    std::vector<float> gram(std::size_t(groups) * block);
    ThreadPool::shared().parallelFor(groups, [&](std::int64_t b, std::int64_t e) {
        Mat g;
        for (std::int64_t i = b; i < e; ++i) {
            const auto xg = x.middleCols(Eigen::Index(i) * gs, gs);
            g.noalias() = xg.transpose() * xg;
            g /= tokens;
            std::copy(g.data(), g.data() + block, gram.data() + std::size_t(i) * block);
        }
    });
    compute::AwqClipProblem p;
    p.w = w.data();
    p.n = n;
    p.k = k;
    p.groupSize = gs;
    p.gram = gram.data();
    p.bits = grid.bits;
    p.symmetric = grid.symmetric;
    p.shrinks = c.shrinks;
    const std::size_t plane = std::size_t(n) * std::size_t(groups);
    std::vector<float> errors(c.shrinks.size() * plane);
    if (backend && backend->isGpu())
        backend->awqClipErrors(p, errors.data(), c.orgMax.data());
    else
        compute::awqClipErrorsCpu(p, errors.data(), c.orgMax.data());
    for (std::size_t i = 0; i < c.shrinks.size(); ++i)
        c.errors[i] = Eigen::Map<const Mat>(errors.data() + i * plane, n, groups).cast<double>();
}

} // namespace

AwqClipCandidates awqClipCandidateErrors(const Mat& w, const Mat& x, const GroupGrid& grid, int groupSize,
                                         int gridPoints, float maxShrink, AwqClipForm form, compute::Backend* backend)
{
    if (x.cols() != w.cols() || x.rows() == 0)
        throw Error("awq clip: inputs do not match the weight");
    if (gridPoints < 1)
        throw Error("awq clip: the shrink grid needs at least one point");
    const int n = int(w.rows()), k = int(w.cols());
    const int gs = effectiveGroup(groupSize, k);
    const int groups = k / gs;
    const int steps = std::max(1, int(maxShrink * float(gridPoints)));

    AwqClipCandidates c;
    c.errors.assign(std::size_t(steps), Eigen::MatrixXd(n, groups));
    c.orgMax.resize(n, groups);
    for (int i = 0; i < steps; ++i)
        c.shrinks.push_back(1.0f - float(i) / float(gridPoints));
    if (form == AwqClipForm::Gram) {
        gramFormErrors(w, x, grid, gs, backend, c);
        return c;
    }

    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            Mat candidate, org, out;
            for (std::int64_t r0 = begin; r0 < end; r0 += kRowBlock) {
                const int rows = int(std::min<std::int64_t>(kRowBlock, end - r0));
                for (int g = 0; g < groups; ++g) {
                    const auto wg = w.block(r0, Eigen::Index(g) * gs, rows, gs);
                    const auto xg = x.middleCols(Eigen::Index(g) * gs, gs);
                    for (int row = 0; row < rows; ++row)
                        c.orgMax(r0 + row, g) = wg.row(row).cwiseAbs().maxCoeff();
                    org.noalias() = xg * wg.transpose(); // [T][rows]
                    for (int i = 0; i < steps; ++i) {
                        candidate = wg;
                        for (int row = 0; row < rows; ++row)
                            clampAndQuantize(candidate.row(row).data(), gs, c.orgMax(r0 + row, g) * c.shrinks[std::size_t(i)],
                                             grid);
                        out.noalias() = xg * candidate.transpose();
                        const Eigen::RowVectorXf mean = (out - org).cwiseAbs2().colwise().mean();
                        for (int row = 0; row < rows; ++row)
                            c.errors[std::size_t(i)](row + r0, g) = double(mean[row]);
                    }
                }
            }
        },
        kRowBlock);
    return c;
}

AwqClipResult searchAwqClip(const Mat& w, const Mat& x, const GroupGrid& grid, int groupSize, int gridPoints,
                            float maxShrink, AwqClipForm form, compute::Backend* backend)
{
    const auto c = awqClipCandidateErrors(w, x, grid, groupSize, gridPoints, maxShrink, form, backend);
    const Eigen::Index n = c.orgMax.rows(), groups = c.orgMax.cols();
    AwqClipResult r;
    r.maxVal.resize(n, groups);
    Mat shrinkChosen(n, groups);
    for (Eigen::Index g = 0; g < groups; ++g)
        for (Eigen::Index row = 0; row < n; ++row) {
            double best = 1e300;
            for (std::size_t i = 0; i < c.errors.size(); ++i) {
                const double e = c.errors[i](row, g);
                if (e < best) {
                    best = e;
                    shrinkChosen(row, g) = c.shrinks[i];
                }
            }
            r.maxVal(row, g) = c.orgMax(row, g) * shrinkChosen(row, g);
            r.errorUnclipped += c.errors[0](row, g);
            r.errorClipped += best;
        }
    r.meanShrink = double(shrinkChosen.mean());
    r.minShrink = double(shrinkChosen.minCoeff());
    r.fractionClipped = double((shrinkChosen.array() < 1.0f).count()) / double(shrinkChosen.size());
    return r;
}

void applyAwqClip(Mat& w, const Mat& maxVal, int groupSize)
{
    const int k = int(w.cols());
    const int gs = effectiveGroup(groupSize, k);
    if (maxVal.rows() != w.rows() || maxVal.cols() != k / gs)
        throw Error("awq clip: clamps do not match the weight");
    ThreadPool::shared().parallelFor(
        w.rows(),
        [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t row = b; row < e; ++row)
                for (int c = 0; c < k; ++c) {
                    const float m = maxVal(row, c / gs);
                    w(row, c) = std::clamp(w(row, c), -m, m);
                }
        },
        64);
}

} // namespace qs::quant
