#include "core/quant/layer_metrics.hpp"

#include "core/compute/cpu/dequant.hpp"
#include "core/quant/outlier_linear.hpp"
#include "core/quant/w8a8_linear.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/checkpoint_linear.hpp"
#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <cmath>
#include <vector>

namespace qs::quant {

namespace {

// x w^T with the output features split over the pool (at 7B shapes these products, 512 sampled
// rows by every linear twice, took ~7 s per block on one thread).
runtime::Mat timesTransposed(const runtime::Mat& x, const runtime::Mat& w)
{
    runtime::Mat y(x.rows(), w.rows());
    const std::int64_t work = std::int64_t(x.rows()) * w.rows() * w.cols();
    ThreadPool::shared().parallelFor(
        w.rows(),
        [&](std::int64_t b, std::int64_t e) { y.middleCols(b, e - b).noalias() = x * w.middleRows(b, e - b).transpose(); },
        work < (1 << 20) ? w.rows() : 64);
    return y;
}

} // namespace

std::string linearName(int block, runtime::LinearRole role)
{
    const bool attention = role == runtime::LinearRole::Q || role == runtime::LinearRole::K ||
                           role == runtime::LinearRole::V || role == runtime::LinearRole::O;
    return "model.layers." + std::to_string(block) + (attention ? ".self_attn." : ".mlp.") +
           runtime::linearRoleName(role);
}

runtime::Mat dequantize(const compute::WeightMatrix& w)
{
    // Rows split over the pool (a 7B-width linear is 45M weights; on one thread this read of the
    // weight took ~0.17 s per linear of GPTQ and again for its metrics).
    runtime::Mat out(compute::rowsOf(w), compute::colsOf(w));
    const std::int64_t rows = out.rows(), cols = out.cols();
    ThreadPool::shared().parallelFor(
        rows, [&](std::int64_t b, std::int64_t e) { compute::dequantRows(w, int(b), int(e), out.data() + b * cols); },
        rows * cols < (1 << 18) ? rows : 16);
    return out;
}

runtime::Mat currentWeight(const runtime::LinearOp& op)
{
    if (const auto* d = dynamic_cast<const runtime::DenseLinear*>(&op))
        return d->weight();
    if (const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op))
        return dequantize(b->weight());
    if (const auto* c = dynamic_cast<const runtime::CheckpointLinear*>(&op))
        return c->weight();
    if (const auto* w = dynamic_cast<const W8A8Linear*>(&op))
        return dequantize(w->weight()); // the weight half of W8A8; activations are quantized at run time
    if (const auto* o = dynamic_cast<const OutlierLinear*>(&op))
        return o->effectiveWeight();
    throw Error("cannot read the weight of a " + op.describe() + " linear");
}

std::optional<runtime::Vec> currentBias(const runtime::LinearOp& op)
{
    if (const auto* d = dynamic_cast<const runtime::DenseLinear*>(&op))
        return d->bias();
    if (const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op))
        return b->bias();
    if (const auto* c = dynamic_cast<const runtime::CheckpointLinear*>(&op))
        return c->bias();
    if (const auto* w = dynamic_cast<const W8A8Linear*>(&op))
        return w->bias();
    if (const auto* o = dynamic_cast<const OutlierLinear*>(&op))
        return o->bias();
    return std::nullopt;
}

namespace {
thread_local LayerWeightObserver* tlObserver = nullptr;
} // namespace

ScopedLayerWeightObserver::ScopedLayerWeightObserver(LayerWeightObserver* observer) : previous_(tlObserver)
{
    tlObserver = observer;
}

ScopedLayerWeightObserver::~ScopedLayerWeightObserver() { tlObserver = previous_; }

void fillMetrics(LayerReport& report, const runtime::Mat& reference, const compute::WeightMatrix& w,
                 const runtime::Mat& x, const runtime::Mat* effective)
{
    const runtime::Mat dq = effective ? *effective : dequantize(w);
    report.format = compute::formatName(w);
    report.bitsPerWeight = 8.0 * double(compute::weightBytes(w)) / double(reference.size());
    if (dq.rows() != reference.rows() || dq.cols() != reference.cols())
        throw Error("layer metrics: the quantized weight does not have the reference's shape");
    // Both sums over rows on the pool (45M weights a 7B-width linear).
    std::vector<double> err2Rows(std::size_t(reference.rows())), sig2Rows(err2Rows.size());
    ThreadPool::shared().parallelFor(
        reference.rows(),
        [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t r = b; r < e; ++r) {
                err2Rows[std::size_t(r)] = double((reference.row(r) - dq.row(r)).squaredNorm());
                sig2Rows[std::size_t(r)] = double(reference.row(r).squaredNorm());
            }
        },
        64);
    double err2 = 0, sig2 = 0;
    for (std::size_t r = 0; r < err2Rows.size(); ++r) {
        err2 += err2Rows[r];
        sig2 += sig2Rows[r];
    }
    report.weightMse = err2 / double(reference.size());
    report.sqnrDb = err2 > 0 ? 10.0 * std::log10(sig2 / err2) : INFINITY;
    if (x.size() > 0) {
        const runtime::Mat y = timesTransposed(x, reference);
        const runtime::Mat yq = timesTransposed(x, dq);
        const double denom = double(y.norm());
        report.outputRelError = denom > 0 ? double((y - yq).norm()) / denom : 0.0;
    }
    if (tlObserver)
        tlObserver->observe(report, reference, w, dq);
}

double outputRelError(const runtime::LinearOp& reference, const runtime::LinearOp& quantized, const runtime::Mat& x,
                      const std::optional<runtime::Vec>& bias)
{
    runtime::Mat y, yq;
    reference.forward(x, y);
    quantized.forward(x, yq);
    if (bias)
        y.rowwise() -= bias->transpose();
    const double denom = double(y.norm());
    if (bias)
        y.rowwise() += bias->transpose();
    return denom > 0 ? double((y - yq).norm()) / denom : 0.0;
}

void fillMetrics(LayerReport& report, const runtime::Mat& reference, const StoredGroupwise& stored,
                 const runtime::Mat& x, const runtime::Mat* effective)
{
    fillMetrics(report, reference, stored.matrix, x, effective);
    report.format = stored.format;
    report.bitsPerWeight = stored.bitsPerWeight;
    report.choices["runtime_format"] = stored.runtimeFormat;
}

} // namespace qs::quant
