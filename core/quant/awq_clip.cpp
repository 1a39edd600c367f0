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

// Rows of w one thread handles at a time: a 128 x 128 candidate block stays in L2.
constexpr int kRowBlock = 128;

} // namespace

AwqClipCandidates awqClipCandidateErrors(const Mat& w, const Mat& x, const GroupGrid& grid, int groupSize,
                                         int gridPoints, float maxShrink, AwqClipForm form)
{
    if (x.cols() != w.cols() || x.rows() == 0)
        throw Error("awq clip: inputs do not match the weight");
    if (gridPoints < 1)
        throw Error("awq clip: the shrink grid needs at least one point");
    const int n = int(w.rows()), k = int(w.cols());
    const int gs = effectiveGroup(groupSize, k);
    const int groups = k / gs;
    const int steps = std::max(1, int(maxShrink * float(gridPoints)));
    const float tokens = float(x.rows());

    AwqClipCandidates c;
    c.errors.assign(std::size_t(steps), Eigen::MatrixXd(n, groups));
    c.orgMax.resize(n, groups);
    for (int i = 0; i < steps; ++i)
        c.shrinks.push_back(1.0f - float(i) / float(gridPoints));

    // The diagonal gs x gs blocks of X^T X / T, one per group.
    std::vector<Mat> gram;
    if (form == AwqClipForm::Gram) {
        gram.resize(std::size_t(groups));
        ThreadPool::shared().parallelFor(groups, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t g = b; g < e; ++g) {
                const auto xg = x.middleCols(Eigen::Index(g) * gs, gs);
                gram[std::size_t(g)].noalias() = xg.transpose() * xg;
                gram[std::size_t(g)] /= tokens;
            }
        });
    }

    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            Mat candidate, diff, prod, org, out;
            for (std::int64_t r0 = begin; r0 < end; r0 += kRowBlock) {
                const int rows = int(std::min<std::int64_t>(kRowBlock, end - r0));
                for (int g = 0; g < groups; ++g) {
                    const auto wg = w.block(r0, Eigen::Index(g) * gs, rows, gs);
                    const auto xg = x.middleCols(Eigen::Index(g) * gs, gs);
                    for (int row = 0; row < rows; ++row)
                        c.orgMax(r0 + row, g) = wg.row(row).cwiseAbs().maxCoeff();
                    if (form == AwqClipForm::Direct)
                        org.noalias() = xg * wg.transpose(); // [T][rows]
                    for (int i = 0; i < steps; ++i) {
                        candidate = wg;
                        for (int row = 0; row < rows; ++row)
                            clampAndQuantize(candidate.row(row).data(), gs, c.orgMax(r0 + row, g) * c.shrinks[std::size_t(i)],
                                             grid);
                        auto& err = c.errors[std::size_t(i)];
                        if (form == AwqClipForm::Gram) {
                            diff = wg - candidate;
                            prod.noalias() = diff * gram[std::size_t(g)];
                            for (int row = 0; row < rows; ++row)
                                err(r0 + row, g) = double(prod.row(row).dot(diff.row(row)));
                        } else {
                            out.noalias() = xg * candidate.transpose();
                            const Eigen::RowVectorXf mean = (out - org).cwiseAbs2().colwise().mean();
                            for (int row = 0; row < rows; ++row)
                                err(r0 + row, g) = double(mean[row]);
                        }
                    }
                }
            }
        },
        kRowBlock);
    return c;
}

AwqClipResult searchAwqClip(const Mat& w, const Mat& x, const GroupGrid& grid, int groupSize, int gridPoints,
                            float maxShrink, AwqClipForm form)
{
    const auto c = awqClipCandidateErrors(w, x, grid, groupSize, gridPoints, maxShrink, form);
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
