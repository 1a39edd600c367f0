#include "core/quant/gptq_solver.hpp"

#include "core/util/error.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace qs::quant {

namespace {

using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double codeOf(double w, double scale, double zero, int maxq)
{
    const double q = std::nearbyint(w / scale) + zero;
    return std::clamp(q, 0.0, double(maxq));
}

// The upper Cholesky factor U of (H + damp I)^-1 (U^T U = H^-1), as gptq.py builds it:
// cholesky, cholesky_inverse, cholesky(upper). Raises the damping x10 while a factorization
// fails; returns false when every try failed. Both factorizations run in place, so at most three
// K x K matrices live here at once (at K = 11008, down_proj of a 7B model, each is 0.97 GB).
bool inverseCholeskyUpper(const Eigen::MatrixXd& h, const GptqOptions& o, Eigen::MatrixXd& upper, double& dampUsed,
                          int& tries)
{
    const Eigen::Index k = h.rows();
    const double meanDiag = h.diagonal().mean();
    double fraction = o.damp;
    for (tries = 1; tries <= std::max(1, o.maxDampTries); ++tries, fraction *= 10.0) {
        Eigen::MatrixXd inv;
        {
            Eigen::MatrixXd damped = h;
            damped.diagonal().array() += fraction * meanDiag;
            Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(damped); // L in damped's lower triangle
            if (llt.info() != Eigen::Success)
                continue;
            inv = Eigen::MatrixXd::Identity(k, k);
            llt.solveInPlace(inv);
        }
        // Exact symmetry for the second factorization, which reads the lower triangle only: each
        // lower coefficient reads its (unchanged) upper mirror, so this needs no temporary.
        inv.triangularView<Eigen::StrictlyLower>() = 0.5 * (inv + inv.transpose());
        Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt2(inv);
        if (llt2.info() != Eigen::Success)
            continue;
        upper = inv.triangularView<Eigen::Lower>().transpose();
        inv.resize(0, 0);
        if (!upper.allFinite() || (upper.diagonal().array() <= 0.0).any())
            continue;
        dampUsed = fraction;
        return true;
    }
    return false;
}

} // namespace

void findGptqParams(const double* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                    float& zero)
{
    std::vector<float> v(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
        v[std::size_t(i)] = float(values[std::size_t(i) * std::size_t(stride)]);
    findParams(v.data(), count, 1, grid, scale, zero);
    if (!mse)
        return;
    // quant.py: grid 100, maxshrink 0.8, norm 2.4; keep the first shrink with the lowest error.
    constexpr int kGrid = 100;
    constexpr double kMaxShrink = 0.8, kNorm = 2.4;
    const int maxq = grid.maxq();
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < int(kMaxShrink * kGrid); ++i) {
        float s, z;
        findParams(v.data(), count, 1, grid, s, z, float(1.0 - double(i) / kGrid));
        double err = 0;
        for (int j = 0; j < count; ++j) {
            const double x = values[std::size_t(j) * std::size_t(stride)];
            const double q = (codeOf(x, s, z, maxq) - z) * double(s);
            err += std::pow(std::abs(q - x), kNorm);
        }
        if (err < best) {
            best = err;
            scale = s;
            zero = z;
        }
    }
}

GptqResult gptqQuantize(const Eigen::MatrixXd& w, Eigen::MatrixXd h, const GptqOptions& o)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (h.rows() != k || h.cols() != k)
        throw Error("gptq: Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) + " for " +
                    std::to_string(k) + " input features");
    const bool grouped = o.groupSize > 0 && o.groupSize < k;
    const int gs = grouped ? o.groupSize : k;
    if (k % gs != 0)
        throw Error("gptq: group size " + std::to_string(gs) + " does not divide " + std::to_string(k) +
                    " input features");
    const int groups = k / gs;
    const int maxq = o.grid.maxq();
    const int blockSize = std::max(1, o.blockSize);

    GptqResult r;
    r.q.groupSize = gs;
    r.q.groups = groups;
    r.q.scales.assign(std::size_t(n) * std::size_t(groups), 0.0f);
    r.q.zeros.assign(r.q.scales.size(), 0.0f);
    auto setParams = [&](int row, int g, float s, float z) {
        r.q.scales[std::size_t(row) * std::size_t(groups) + std::size_t(g)] = s;
        r.q.zeros[std::size_t(row) * std::size_t(groups) + std::size_t(g)] = z;
    };

    Eigen::MatrixXd W = w;
    // Per channel, gptq.py finds the params once on the weights as given (before dead columns).
    std::vector<float> curScale(static_cast<std::size_t>(n)), curZero(static_cast<std::size_t>(n));
    if (!grouped) {
        const RowMajorD rows = W;
        for (int row = 0; row < n; ++row) {
            findGptqParams(rows.row(row).data(), k, 1, o.grid, o.mseGrid, curScale[std::size_t(row)],
                           curZero[std::size_t(row)]);
            setParams(row, 0, curScale[std::size_t(row)], curZero[std::size_t(row)]);
        }
    }

    // Dead inputs (never non-zero in calibration): no information, so quantize them as zeros.
    for (int c = 0; c < k; ++c)
        if (h(c, c) == 0.0) {
            h(c, c) = 1.0;
            W.col(c).setZero();
            ++r.deadColumns;
        }

    if (grouped && o.staticGroups) {
        const RowMajorD rows = W;
        for (int g = 0; g < groups; ++g)
            for (int row = 0; row < n; ++row) {
                float s, z;
                findGptqParams(rows.row(row).data() + std::size_t(g) * std::size_t(gs), gs, 1, o.grid, o.mseGrid, s, z);
                setParams(row, g, s, z);
            }
    }

    std::vector<int> perm(static_cast<std::size_t>(k));
    std::iota(perm.begin(), perm.end(), 0);
    if (o.actOrder) {
        // Stable, so equal diagonals keep their order and runs are reproducible.
        std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return h(a, a) > h(b, b); });
        Eigen::MatrixXd wp(n, k), hp(k, k);
        for (int j = 0; j < k; ++j)
            wp.col(j) = W.col(perm[std::size_t(j)]);
        for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j)
                hp(i, j) = h(perm[std::size_t(i)], perm[std::size_t(j)]);
        W = std::move(wp);
        h = std::move(hp);
    }

    Eigen::MatrixXd U;
    if (!inverseCholeskyUpper(h, o, U, r.dampUsed, r.dampTries))
        throw Error("gptq: the Hessian is not positive definite even with damp " +
                    std::to_string(o.damp * std::pow(10.0, std::max(1, o.maxDampTries) - 1)) +
                    " of its mean diagonal (non-finite inputs?)");

    Eigen::MatrixXd Q(n, k);
    std::vector<std::uint8_t> codes(std::size_t(n) * std::size_t(k)); // permuted positions, [N][K]
    RowMajorD group(n, gs);
    for (int i1 = 0; i1 < k; i1 += blockSize) {
        const int i2 = std::min(i1 + blockSize, k), count = i2 - i1;
        Eigen::MatrixXd W1 = W.middleCols(i1, count);
        Eigen::MatrixXd Err1 = Eigen::MatrixXd::Zero(n, count);
        for (int i = 0; i < count; ++i) {
            const int col = i1 + i;
            if (grouped && !o.staticGroups && col % gs == 0) {
                // The group's weights as they stand now: in-batch columns from W1, later ones
                // from W plus the pending updates of this batch's quantized columns.
                for (int c = col; c < col + gs; ++c) {
                    if (o.paramsFromBatchStart)
                        group.col(c - col) = W.col(c);
                    else if (c < i2)
                        group.col(c - col) = W1.col(c - i1);
                    else
                        group.col(c - col) = W.col(c) - Err1 * U.block(i1, c, count, 1);
                }
                for (int row = 0; row < n; ++row) {
                    findGptqParams(group.row(row).data(), gs, 1, o.grid, o.mseGrid, curScale[std::size_t(row)],
                                   curZero[std::size_t(row)]);
                    setParams(row, col / gs, curScale[std::size_t(row)], curZero[std::size_t(row)]);
                }
            }
            if (grouped && o.staticGroups) {
                const int g = perm[std::size_t(col)] / gs;
                for (int row = 0; row < n; ++row) {
                    curScale[std::size_t(row)] = r.q.scales[std::size_t(row) * std::size_t(groups) + std::size_t(g)];
                    curZero[std::size_t(row)] = r.q.zeros[std::size_t(row) * std::size_t(groups) + std::size_t(g)];
                }
            }
            const double d = U(col, col);
            Eigen::VectorXd err(n);
            double colLoss = 0;
            for (int row = 0; row < n; ++row) {
                const double x = W1(row, i);
                const double s = curScale[std::size_t(row)], z = curZero[std::size_t(row)];
                const double code = codeOf(x, s, z, maxq);
                const double q = (code - z) * s;
                codes[std::size_t(row) * std::size_t(k) + std::size_t(col)] = std::uint8_t(code);
                Q(row, col) = q;
                colLoss += (x - q) * (x - q);
                err[row] = (x - q) / d;
            }
            r.loss += colLoss / (d * d) / 2.0;
            W1.rightCols(count - i).noalias() -= err * U.block(col, col, 1, count - i);
            Err1.col(i) = err;
        }
        if (i2 < k)
            W.rightCols(k - i2).noalias() -= Err1 * U.block(i1, i2, count, k - i2);
    }

    // Back to the original column order; act-order groups follow the sweep's positions.
    r.q.codes.resize(codes.size());
    r.dequantized.resize(n, k);
    for (int j = 0; j < k; ++j) {
        const int c = perm[std::size_t(j)];
        r.dequantized.col(c) = Q.col(j);
        for (int row = 0; row < n; ++row)
            r.q.codes[std::size_t(row) * std::size_t(k) + std::size_t(c)] =
                codes[std::size_t(row) * std::size_t(k) + std::size_t(j)];
    }
    if (o.actOrder && grouped && !o.staticGroups) {
        r.gIdx.resize(std::size_t(k));
        for (int j = 0; j < k; ++j)
            r.gIdx[std::size_t(perm[std::size_t(j)])] = j / gs;
    }
    return r;
}

double layerError(const Eigen::MatrixXd& w, const Eigen::MatrixXd& q, const Eigen::MatrixXd& h)
{
    const Eigen::MatrixXd e = w - q;
    return (e * h).cwiseProduct(e).sum();
}

} // namespace qs::quant
