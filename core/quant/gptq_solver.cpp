#include "core/quant/gptq_solver.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace qs::quant {

namespace {

template <typename T>
T codeOf(T w, T scale, T zero, int maxq)
{
    const T q = std::nearbyint(w / scale) + zero;
    return std::clamp(q, T(0), T(maxq));
}

template <typename V>
void findParamsOf(const V* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale, float& zero)
{
    if constexpr (std::is_same_v<V, float>) {
        if (!mse) {
            findParams(values, count, stride, grid, scale, zero);
            return;
        }
    }
    thread_local std::vector<float> buffer;
    buffer.resize(std::size_t(count));
    for (int i = 0; i < count; ++i)
        buffer[std::size_t(i)] = float(values[std::size_t(i) * std::size_t(stride)]);
    const float* v = buffer.data();
    findParams(v, count, 1, grid, scale, zero);
    if (!mse)
        return;
    // quant.py: grid 100, maxshrink 0.8, norm 2.4; keep the first shrink with the lowest error.
    constexpr int kGrid = 100;
    constexpr double kMaxShrink = 0.8, kNorm = 2.4;
    const int maxq = grid.maxq();
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < int(kMaxShrink * kGrid); ++i) {
        float s, z;
        findParams(v, count, 1, grid, s, z, float(1.0 - double(i) / kGrid));
        double err = 0;
        for (int j = 0; j < count; ++j) {
            const double x = double(values[std::size_t(j) * std::size_t(stride)]);
            const double q = (codeOf<double>(x, s, z, maxq) - z) * double(s);
            err += std::pow(std::abs(q - x), kNorm);
        }
        if (err < best) {
            best = err;
            scale = s;
            zero = z;
        }
    }
}

// A span of columns swept together: [begin, end) is the lazy batch; the state at its start is
// computed for [begin, stateEnd) (further than end only where a group's params read columns
// past the batch, with paramsFromBatchStart).
struct Span {
    int begin, end, stateEnd;
};

std::vector<Span> spansOf(int k, int blockSize, bool dynamicGroups, int gs, bool paramsFromBatchStart)
{
    std::vector<Span> spans;
    for (int i1 = 0; i1 < k;) {
        int i2 = std::min(i1 + blockSize, k);
        int stateEnd = i2;
        const int lastGroup = ((i2 - 1) / gs) * gs; // the last group that starts in [i1, i2), if any
        if (dynamicGroups && lastGroup >= i1) {
            // Default: the batch grows to hold every group it starts, so a group's params read
            // the batch's own up-to-date weights. gptq.py's literal mode reads the state at the
            // batch start instead, past the batch where the group extends beyond it.
            if (paramsFromBatchStart)
                stateEnd = std::max(i2, std::min(k, lastGroup + gs));
            else
                i2 = stateEnd = std::max(i2, std::min(k, lastGroup + gs));
        }
        spans.push_back({i1, i2, stateEnd});
        i1 = i2;
    }
    return spans;
}

template <typename T>
const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& factorOf(const GptqFactor& f)
{
    if constexpr (std::is_same_v<T, double>)
        return f.r;
    else
        return f.rSingle;
}

// Columns whose starting state comes from one product with the errors before them.
constexpr int kSuperWidth = 512;

// T: the precision of the sweep; WMat: the weights as given (f32 from the model, or double).
template <typename T, typename WMat>
GptqResult sweep(const WMat& w, const GptqFactor& f, const GptqOptions& o)
{
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    const Mat& R = factorOf<T>(f);
    const int n = int(w.rows()), k = int(w.cols());
    const bool grouped = o.groupSize > 0 && o.groupSize < k;
    const int gs = grouped ? o.groupSize : k;
    const int groups = k / gs;
    const int maxq = o.grid.maxq();
    const bool dynamicGroups = grouped && !o.staticGroups;
    const std::vector<int>& perm = f.perm;

    GptqResult r;
    r.q.groupSize = gs;
    r.q.groups = groups;
    r.q.scales.assign(std::size_t(n) * std::size_t(groups), 0.0f);
    r.q.zeros.assign(r.q.scales.size(), 0.0f);
    r.q.codes.assign(std::size_t(n) * std::size_t(k), 0);
    if (o.keepDequantized)
        r.dequantized.resize(n, k);
    r.dampUsed = f.dampUsed;
    r.dampTries = f.dampTries;
    r.deadColumns = int(f.dead.size());
    std::vector<char> dead(static_cast<std::size_t>(k), 0);
    for (int c : f.dead)
        dead[std::size_t(c)] = 1;

    // The diagonal blocks of U = R^-1 over each span's state columns, shared by all rows.
    const std::vector<Span> spans = spansOf(k, std::max(1, o.blockSize), dynamicGroups, gs, o.paramsFromBatchStart);
    std::vector<Mat> ub(spans.size());
    ThreadPool& pool = ThreadPool::shared();
    pool.parallelFor(std::int64_t(spans.size()), [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const int i1 = spans[std::size_t(s)].begin, m = spans[std::size_t(s)].stateEnd - i1;
            ub[std::size_t(s)] = R.block(i1, i1, m, m).template triangularView<Eigen::Upper>().solve(Mat::Identity(m, m));
        }
    });

    std::vector<double> rowLoss(static_cast<std::size_t>(n), 0.0);
    // Rows only share R: each range of rows runs the whole sweep on its own.
    pool.parallelFor(
        n,
        [&](std::int64_t rb, std::int64_t re) {
            const int r0 = int(rb), nr = int(re - rb);
            auto setParams = [&](int row, int g, float s, float z) {
                const std::size_t at = std::size_t(r0 + row) * std::size_t(groups) + std::size_t(g);
                r.q.scales[at] = s;
                r.q.zeros[at] = z;
            };
            std::vector<float> curScale(static_cast<std::size_t>(nr)), curZero(static_cast<std::size_t>(nr));
            // Per channel, gptq.py finds the params once on the weights as given (before dead columns).
            if (!grouped)
                for (int row = 0; row < nr; ++row) {
                    findParamsOf(&w(r0 + row, 0), k, int(w.colStride()), o.grid, o.mseGrid,
                                 curScale[std::size_t(row)], curZero[std::size_t(row)]);
                    setParams(row, 0, curScale[std::size_t(row)], curZero[std::size_t(row)]);
                }
            if (grouped && o.staticGroups) {
                std::vector<double> seg(static_cast<std::size_t>(gs));
                for (int row = 0; row < nr; ++row)
                    for (int g = 0; g < groups; ++g) {
                        for (int c = 0; c < gs; ++c) {
                            const int col = g * gs + c;
                            seg[std::size_t(c)] = dead[std::size_t(col)] ? 0.0 : w(r0 + row, col);
                        }
                        float s, z;
                        findParamsOf(seg.data(), gs, 1, o.grid, o.mseGrid, s, z);
                        setParams(row, g, s, z);
                    }
            }
            // The weights in sweep order; a column becomes its error w - q once quantized.
            Mat W(nr, k);
            for (int j = 0; j < k; ++j) {
                const int c = perm[std::size_t(j)];
                if (dead[std::size_t(c)])
                    W.col(j).setZero();
                else
                    W.col(j) = w.block(r0, c, nr, 1).template cast<T>();
            }
            Mat acc, state, W1;
            Vec err(nr);
            int superBegin = 0, superEnd = 0; // the columns acc covers
            for (std::size_t s = 0; s < spans.size(); ++s) {
                const int i1 = spans[s].begin, count = spans[s].end - i1, m = spans[s].stateEnd - i1;
                const Mat& u = ub[s];
                // The span's weights with every earlier column's error applied: acc holds the
                // errors before a run of spans about kSuperWidth wide (one long product, whose
                // packing of D is shared by the run), the rest is the run's own spans before i1.
                if (spans[s].stateEnd > superEnd) {
                    superBegin = i1;
                    superEnd = i1;
                    for (std::size_t t = s; t < spans.size() && superEnd - i1 < kSuperWidth; ++t)
                        superEnd = std::max(superEnd, spans[t].stateEnd);
                    if (i1 > 0)
                        acc.noalias() = W.leftCols(i1) * R.block(0, i1, i1, superEnd - i1);
                    else
                        acc.setZero(nr, superEnd - i1);
                }
                state = acc.middleCols(i1 - superBegin, m);
                if (i1 > superBegin)
                    state.noalias() += W.middleCols(superBegin, i1 - superBegin) *
                                       R.block(superBegin, i1, i1 - superBegin, m);
                state = state * u.template triangularView<Eigen::Upper>();
                state += W.middleCols(i1, m);
                W1 = state.leftCols(count);
                for (int i = 0; i < count; ++i) {
                    const int col = i1 + i;
                    if (dynamicGroups && col % gs == 0) {
                        // The group's weights as they stand now (all earlier errors applied), or
                        // as they stood at the batch start with paramsFromBatchStart.
                        const Mat& src = o.paramsFromBatchStart ? state : W1;
                        for (int row = 0; row < nr; ++row) {
                            findParamsOf(&src(row, i), gs, nr, o.grid, o.mseGrid, curScale[std::size_t(row)],
                                         curZero[std::size_t(row)]);
                            setParams(row, col / gs, curScale[std::size_t(row)], curZero[std::size_t(row)]);
                        }
                    }
                    if (grouped && o.staticGroups) {
                        const int g = perm[std::size_t(col)] / gs;
                        for (int row = 0; row < nr; ++row) {
                            const std::size_t at = std::size_t(r0 + row) * std::size_t(groups) + std::size_t(g);
                            curScale[std::size_t(row)] = r.q.scales[at];
                            curZero[std::size_t(row)] = r.q.zeros[at];
                        }
                    }
                    const T d = u(i, i);
                    const int orig = perm[std::size_t(col)];
                    for (int row = 0; row < nr; ++row) {
                        const T x = W1(row, i);
                        const T sc = curScale[std::size_t(row)], z = curZero[std::size_t(row)];
                        const T code = codeOf<T>(x, sc, z, maxq);
                        const T q = (code - z) * sc;
                        r.q.codes[std::size_t(r0 + row) * std::size_t(k) + std::size_t(orig)] = std::uint8_t(code);
                        if (o.keepDequantized)
                            r.dequantized(r0 + row, orig) = double(q);
                        W(row, col) -= q;
                        err[row] = (x - q) / d;
                        rowLoss[std::size_t(r0 + row)] += double(x - q) * double(x - q) / (double(d) * double(d)) / 2.0;
                    }
                    if (i + 1 < count)
                        W1.rightCols(count - i - 1).noalias() -= err * u.row(i).segment(i + 1, count - i - 1);
                }
            }
        },
        8);
    for (double l : rowLoss)
        r.loss += l;

    if (o.actOrder && dynamicGroups) {
        r.gIdx.resize(std::size_t(k));
        for (int j = 0; j < k; ++j)
            r.gIdx[std::size_t(perm[std::size_t(j)])] = j / gs;
    }
    return r;
}

} // namespace

void findGptqParams(const double* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                    float& zero)
{
    findParamsOf(values, count, stride, grid, mse, scale, zero);
}

void findGptqParams(const float* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                    float& zero)
{
    findParamsOf(values, count, stride, grid, mse, scale, zero);
}

namespace {

template <typename WMat>
GptqResult quantizeWithFactor(const WMat& w, const GptqFactor& f, const GptqOptions& o)
{
    const int k = int(w.cols());
    if (f.k != k)
        throw Error("gptq: Hessian is " + std::to_string(f.k) + "x" + std::to_string(f.k) + " for " +
                    std::to_string(k) + " input features");
    if (f.precision != o.precision || f.actOrder != o.actOrder || f.damp != o.damp || f.maxDampTries != o.maxDampTries)
        throw Error("gptq: the Hessian factor was made with other options (damp, act-order or precision)");
    const bool grouped = o.groupSize > 0 && o.groupSize < k;
    const int gs = grouped ? o.groupSize : k;
    if (k % gs != 0)
        throw Error("gptq: group size " + std::to_string(gs) + " does not divide " + std::to_string(k) +
                    " input features");
    return o.precision == GptqPrecision::Double ? sweep<double>(w, f, o) : sweep<float>(w, f, o);
}

} // namespace

GptqResult gptqQuantize(const Eigen::MatrixXd& w, const GptqFactor& f, const GptqOptions& o)
{
    return quantizeWithFactor(w, f, o);
}

GptqResult gptqQuantize(const runtime::Mat& w, const GptqFactor& f, const GptqOptions& o)
{
    return quantizeWithFactor(w, f, o);
}

GptqResult gptqQuantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const GptqOptions& o)
{
    if (h.rows() != w.cols() || h.cols() != w.cols())
        throw Error("gptq: Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) + " for " +
                    std::to_string(w.cols()) + " input features");
    return gptqQuantize(w, factorGptqHessian(h, o), o);
}

double layerError(const Eigen::MatrixXd& w, const Eigen::MatrixXd& q, const Eigen::MatrixXd& h)
{
    const Eigen::MatrixXd e = w - q;
    return (e * h).cwiseProduct(e).sum();
}

} // namespace qs::quant
