#include "core/quant/awq_clip.hpp"

#include "core/util/error.hpp"

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

} // namespace

AwqClipResult searchAwqClip(const Mat& w, const Mat& x, const GroupGrid& grid, int groupSize, int gridPoints,
                            float maxShrink)
{
    if (x.cols() != w.cols() || x.rows() == 0)
        throw Error("awq clip: inputs do not match the weight");
    const int n = int(w.rows()), k = int(w.cols());
    const int gs = effectiveGroup(groupSize, k);
    const int groups = k / gs;
    const int steps = std::max(1, int(maxShrink * float(gridPoints)));
    AwqClipResult r;
    r.maxVal.resize(n, groups);
    Mat shrinkChosen(n, groups);
    Mat candidate(n, gs), out, org;
    for (int g = 0; g < groups; ++g) {
        const auto xg = x.middleCols(Eigen::Index(g) * gs, gs);
        const Mat wg = w.middleCols(Eigen::Index(g) * gs, gs);
        const Eigen::VectorXf orgMax = wg.cwiseAbs().rowwise().maxCoeff();
        org.noalias() = xg * wg.transpose(); // [T][N]
        Eigen::VectorXd best = Eigen::VectorXd::Constant(n, 1e300);
        for (int i = 0; i < steps; ++i) {
            const float shrink = 1.0f - float(i) / float(gridPoints);
            candidate = wg;
            for (int row = 0; row < n; ++row)
                clampAndQuantize(candidate.row(row).data(), gs, orgMax[row] * shrink, grid);
            out.noalias() = xg * candidate.transpose();
            const Eigen::VectorXd err = (out - org).cwiseAbs2().colwise().mean().transpose().cast<double>();
            if (i == 0)
                r.errorUnclipped += err.sum();
            for (int row = 0; row < n; ++row)
                if (err[row] < best[row]) {
                    best[row] = err[row];
                    r.maxVal(row, g) = orgMax[row] * shrink;
                    shrinkChosen(row, g) = shrink;
                }
        }
        r.errorClipped += best.sum();
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
    for (Eigen::Index row = 0; row < w.rows(); ++row)
        for (int c = 0; c < k; ++c) {
            const float m = maxVal(row, c / gs);
            w(row, c) = std::clamp(w(row, c), -m, m);
        }
}

} // namespace qs::quant
