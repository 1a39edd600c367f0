#pragma once
// An independent, straightforward GPTQ for the tests: no lazy batches, no Cholesky. It follows
// the paper's equations directly: quantize column q, spread its error over the remaining columns
// with delta = -(w_q - quant(w_q)) / [H^-1]_qq * [H^-1]_{q,:}, then remove q from the inverse
// by Gaussian elimination, [H^-1] -= [H^-1]_{:,q} [H^-1]_{q,:} / [H^-1]_qq (Eq. 3). Group params
// come from the weights as they stand at each group's first column (with paramsFromBatchStart,
// as they stood at the start of its blockSize batch). O(K^3), double precision.
#include "core/quant/gptq_solver.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <numeric>

namespace qs::test {

struct ReferenceGptq {
    std::vector<std::uint8_t> codes; // [N][K], original column order
    Eigen::MatrixXd q;               // dequantized, original column order
    std::vector<std::int32_t> gIdx;  // empty unless act-order with dynamic groups
    double loss = 0;
};

inline ReferenceGptq referenceGptq(const Eigen::MatrixXd& w0, Eigen::MatrixXd h, const quant::GptqOptions& o)
{
    const int n = int(w0.rows()), k = int(w0.cols());
    const bool grouped = o.groupSize > 0 && o.groupSize < k;
    const int gs = grouped ? o.groupSize : k;
    const int maxq = o.grid.maxq();
    Eigen::MatrixXd w = w0;
    std::vector<float> scale(static_cast<std::size_t>(n)), zero(static_cast<std::size_t>(n));
    if (!grouped)
        for (int r = 0; r < n; ++r) {
            const Eigen::RowVectorXd row = w.row(r);
            quant::findGptqParams(row.data(), k, 1, o.grid, o.mseGrid, scale[std::size_t(r)], zero[std::size_t(r)]);
        }
    for (int c = 0; c < k; ++c)
        if (h(c, c) == 0) {
            h(c, c) = 1;
            w.col(c).setZero();
        }
    std::vector<std::vector<float>> staticScale, staticZero; // [group][row]
    if (grouped && o.staticGroups)
        for (int g = 0; g < k / gs; ++g) {
            staticScale.emplace_back(std::size_t(n));
            staticZero.emplace_back(std::size_t(n));
            for (int r = 0; r < n; ++r) {
                const Eigen::RowVectorXd seg = w.row(r).segment(g * gs, gs);
                quant::findGptqParams(seg.data(), gs, 1, o.grid, o.mseGrid, staticScale.back()[std::size_t(r)],
                                      staticZero.back()[std::size_t(r)]);
            }
        }
    std::vector<int> perm(static_cast<std::size_t>(k));
    std::iota(perm.begin(), perm.end(), 0);
    if (o.actOrder)
        std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return h(a, a) > h(b, b); });
    Eigen::MatrixXd W(n, k), H(k, k);
    for (int j = 0; j < k; ++j) {
        W.col(j) = w.col(perm[std::size_t(j)]);
        for (int i = 0; i < k; ++i)
            H(i, j) = h(perm[std::size_t(i)], perm[std::size_t(j)]);
    }
    // The damp the solver reports is the one to reuse here (the tests pass it in o.damp).
    H.diagonal().array() += o.damp * H.diagonal().mean();
    Eigen::MatrixXd Hinv = H.inverse();

    ReferenceGptq out;
    out.codes.assign(std::size_t(n) * std::size_t(k), 0);
    out.q.resize(n, k);
    Eigen::MatrixXd batchStart;
    for (int j = 0; j < k; ++j) {
        if (j % std::max(1, o.blockSize) == 0)
            batchStart = W;
        if (grouped && !o.staticGroups && j % gs == 0)
            for (int r = 0; r < n; ++r) {
                const Eigen::RowVectorXd seg = (o.paramsFromBatchStart ? batchStart : W).row(r).segment(j, gs);
                quant::findGptqParams(seg.data(), gs, 1, o.grid, o.mseGrid, scale[std::size_t(r)], zero[std::size_t(r)]);
            }
        if (grouped && o.staticGroups)
            for (int r = 0; r < n; ++r) {
                scale[std::size_t(r)] = staticScale[std::size_t(perm[std::size_t(j)] / gs)][std::size_t(r)];
                zero[std::size_t(r)] = staticZero[std::size_t(perm[std::size_t(j)] / gs)][std::size_t(r)];
            }
        const double d = Hinv(j, j);
        Eigen::VectorXd err(n);
        for (int r = 0; r < n; ++r) {
            const double x = W(r, j), s = scale[std::size_t(r)], z = zero[std::size_t(r)];
            const double code = std::clamp(std::nearbyint(x / s) + z, 0.0, double(maxq));
            const double q = (code - z) * s;
            out.codes[std::size_t(r) * std::size_t(k) + std::size_t(perm[std::size_t(j)])] = std::uint8_t(code);
            out.q(r, perm[std::size_t(j)]) = q;
            err[r] = x - q;
            out.loss += (x - q) * (x - q) / d / 2.0;
        }
        // OBS update of the remaining weights, then drop column j from the inverse.
        W.rightCols(k - j) -= (err / d) * Hinv.row(j).tail(k - j);
        const Eigen::VectorXd col = Hinv.col(j);
        const Eigen::RowVectorXd row = Hinv.row(j);
        Hinv -= col * row / d;
    }
    if (o.actOrder && grouped && !o.staticGroups) {
        out.gIdx.resize(std::size_t(k));
        for (int j = 0; j < k; ++j)
            out.gIdx[std::size_t(perm[std::size_t(j)])] = j / gs;
    }
    return out;
}

} // namespace qs::test
