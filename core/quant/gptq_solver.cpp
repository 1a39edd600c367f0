#include "core/quant/gptq_solver.hpp"

#include "core/quant/gptq_row_sweep.hpp"
#include "core/quant/gptq_sweep_device.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace qs::quant {

namespace {

using detail::codeOf;

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

// The CPU driver: each range of rows runs the whole sweep on its own thread.
template <typename T, typename WMat>
GptqResult sweep(const WMat& w, const GptqFactor& f, const GptqOptions& o)
{
    GptqResult r;
    detail::SweepPlan<T> plan(f, o, int(w.rows()), int(w.cols()), r);
    ThreadPool::shared().parallelFor(
        plan.n,
        [&](std::int64_t rb, std::int64_t re) {
            detail::RowSweep<T, WMat> rows(plan, w, int(rb), int(re - rb));
            for (std::size_t s = 0; s < plan.spans.size(); ++s) {
                if (rows.needsRun(s))
                    rows.startRun(s);
                rows.span(s);
            }
        },
        8);
    plan.finish();
    return r;
}

} // namespace

namespace detail {

void findParamsFloat(const float* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                     float& zero)
{
    quant::findParamsOf(values, count, stride, grid, mse, scale, zero);
}

void findParamsDouble(const double* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                      float& zero)
{
    quant::findParamsOf(values, count, stride, grid, mse, scale, zero);
}

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

int runEnd(const std::vector<Span>& spans, std::size_t s, int width)
{
    const int i1 = spans[s].begin;
    int end = i1;
    for (std::size_t t = s; t < spans.size() && end - i1 < width; ++t)
        end = std::max(end, spans[t].stateEnd);
    return end;
}

template <typename T>
SweepPlan<T>::SweepPlan(const GptqFactor& factor, const GptqOptions& options, int rows, int cols, GptqResult& result)
    : f(factor), o(options), R(factorOf<T>(factor)), n(rows), k(cols), r(result)
{
    grouped = o.groupSize > 0 && o.groupSize < k;
    gs = grouped ? o.groupSize : k;
    groups = k / gs;
    maxq = o.grid.maxq();
    dynamicGroups = grouped && !o.staticGroups;

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
    dead.assign(static_cast<std::size_t>(k), 0);
    for (int c : f.dead)
        dead[std::size_t(c)] = 1;
    rowLoss.assign(static_cast<std::size_t>(n), 0.0);

    // The diagonal blocks of U = R^-1 over each span's state columns, shared by all rows.
    spans = spansOf(k, std::max(1, o.blockSize), dynamicGroups, gs, o.paramsFromBatchStart);
    ub.resize(spans.size());
    ThreadPool::shared().parallelFor(std::int64_t(spans.size()), [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const int i1 = spans[std::size_t(s)].begin, m = spans[std::size_t(s)].stateEnd - i1;
            ub[std::size_t(s)] = R.block(i1, i1, m, m).template triangularView<Eigen::Upper>().solve(Mat::Identity(m, m));
        }
    });
}

template <typename T>
void SweepPlan<T>::finish()
{
    for (double l : rowLoss)
        r.loss += l;
    if (o.actOrder && dynamicGroups) {
        r.gIdx.resize(std::size_t(k));
        for (int j = 0; j < k; ++j)
            r.gIdx[std::size_t(f.perm[std::size_t(j)])] = j / gs;
    }
}

template struct SweepPlan<float>;
template struct SweepPlan<double>;

} // namespace detail

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
    if (o.precision == GptqPrecision::Single && o.productBackend)
        return detail::sweepWithBackend(w, f, o, *o.productBackend);
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
