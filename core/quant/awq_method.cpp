// AWQ (Lin et al. 2024; llm-awq auto_scale.py / auto_clip.py, AutoAWQ's quantizer): per block,
//  1. search one per-input-channel scale per scaling group (awq_search.hpp), on the block's
//     unquantized weights, judged on the output of the module the group feeds, every candidate
//     quantized into the kernels' format and run on the context's backend when it is a GPU
//     (the f32 fake-quantization reference on the CPU);
//  2. fold the scales into the block (awq_scaling.hpp), which leaves its f32 function unchanged;
//  3. search a clamp per output channel and group (awq_clip.hpp, by the tokens' Gram blocks),
//     skipped for q and k whose errors are amplified by the attention scores (AutoAWQ's avoid
//     list);
//  4. quantize the scaled, clamped weights group-wise (4-bit, group 128, zero point by default)
//     and run them as IntGroupwise on the context's backend.
// The CPU work (reading the weights, quantizing candidates, the clip search, metrics) is split
// over the thread pool (QS_THREADS); where a block's time goes is logged (spdlog info) and kept
// in each report's choices["awq_block_seconds"].
#include "core/quant/awq_clip.hpp"
#include "core/quant/awq_packing.hpp"
#include "core/quant/awq_search.hpp"
#include "core/quant/groupwise_storage.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/methods.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace qs::quant {

namespace {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

// The scaling group a linear's columns belong to (index into AwqBlockSearch::groups).
int groupOf(LinearRole r)
{
    switch (r) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V: return 0;
    case LinearRole::O: return 1;
    case LinearRole::Gate:
    case LinearRole::Up: return 2;
    case LinearRole::Down: return 3;
    }
    return 0;
}
int linearsInGroup(int g) { return g == 0 ? 3 : (g == 2 ? 2 : 1); }

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Where a block's time goes (seconds), logged per block and kept in the reports.
struct AwqTimes {
    double total = 0, read = 0, gather = 0, search = 0, searchQuantize = 0, clip = 0, store = 0, metrics = 0;
};

// The f32 weight a linear computes with, dequantized over the thread pool when it is held in
// a kernel format (f16 on the GPU).
Mat readWeight(const runtime::LinearOp& op)
{
    if (const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op))
        return dequantizeParallel(b->weight());
    return currentWeight(op);
}

// diag(out) q diag(1/in), rows over the thread pool.
Mat unscale(Mat q, const Vec& in, const Vec& out)
{
    ThreadPool::shared().parallelFor(
        q.rows(),
        [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t row = b; row < e; ++row)
                q.row(row) = (q.row(row).array() * out[row]) / in.transpose().array();
        },
        16);
    return q;
}

// ||x W^T - x W'^T|| / ||x W^T|| with W' = diag(out) Q diag(1/in): the original linear on x
// against the quantized one on x / in, both on their backends; the original bias (which the
// quantized one holds as bias / out) is taken out of both.
double outputError(const runtime::LinearOp& original, const runtime::LinearOp& quantized, const Mat& x, const Mat& xs,
                   const Vec& out, const std::optional<Vec>& bias)
{
    Mat y, yq;
    original.forward(x, y);
    quantized.forward(xs, yq);
    yq.array().rowwise() *= out.transpose().array();
    if (bias) {
        y.rowwise() -= bias->transpose();
        yq.rowwise() -= bias->transpose();
    }
    const double denom = double(y.norm());
    return denom > 0 ? double((y - yq).norm()) / denom : 0.0;
}

class AwqMethod : public Method {
public:
    explicit AwqMethod(const QuantConfig& c) : config_(c)
    {
        if (c.bits < 2 || c.bits > 8)
            throw Error("awq: " + std::to_string(c.bits) + " bits is not supported (2 to 8)");
        if (c.groupSize < 0)
            throw Error("awq: group size must be 0 (per channel) or positive");
        if (c.awqGrid < 1 || c.awqGrid > 1000)
            throw Error("awq: the ratio grid must have 1 to 1000 points");
        if (c.awqClipTokens < 1)
            throw Error("awq: the clip search needs at least one token");
    }
    std::string name() const override { return "awq"; }
    bool needsCalibration() const override { return true; }
    calib::CaptureOptions captureOptions() const override
    {
        return calib::CaptureOptions::withoutHessian(config_.seed, config_.awqClipTokens); // the clip search's tokens
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        if (!cal)
            throw Error("awq needs calibration data");
        if (!ctx.backend)
            throw Error("awq needs a compute backend");
        const auto tBlock = Clock::now();
        const int block = cal->block;
        auto& weights = model.weights().blocks[std::size_t(block)];
        const auto saved = weights.linears;
        std::array<Mat, 7> original;
        std::array<std::optional<Vec>, 7> biases;
        for (auto role : runtime::kAllLinearRoles) {
            original[std::size_t(role)] = readWeight(*saved[std::size_t(role)]);
            biases[std::size_t(role)] = currentBias(*saved[std::size_t(role)]);
        }
        AwqTimes times;
        times.read = since(tBlock);

        AwqSearchOptions options;
        // On a GPU the candidates run in the kernels' format there; on the CPU the f32 reference
        // (one fake-quantized dense weight per candidate) is both the reference and faster than
        // the CPU backend's dequantize-per-product.
        if (ctx.backend->isGpu())
            options.backend = ctx.backend;
        options.weights = &original;
        const AwqBlockSearch search = searchAwqScales(model, *cal, config_, options);
        times.gather = search.gatherSeconds;
        for (const auto& g : search.groups) {
            times.search += g.seconds;
            times.searchQuantize += g.quantizeSeconds;
        }
        applyAwqNormScales(weights, search.scales);

        const GroupGrid grid{config_.bits, config_.symmetric};
        for (auto role : runtime::kAllLinearRoles) {
            const auto t0 = Clock::now();
            LayerReport r;
            r.name = linearName(block, role);
            r.block = block;
            r.role = role;
            const Mat& w0 = original[std::size_t(role)];
            const Vec in = awqInputScale(search.scales, role, int(w0.cols()));
            const Vec out = awqOutputScale(search.scales, role, int(w0.rows()));
            Mat w = scaleForAwq(w0, in, out); // diag(1/out) W diag(in)
            std::optional<Vec> bias = biases[std::size_t(role)];
            if (bias)
                *bias = bias->cwiseQuotient(out);
            const Mat x = cal->sampleFor(role); // original inputs of this block
            Mat xs = x;
            xs.array().rowwise() /= in.transpose().array();

            auto t = Clock::now();
            nlohmann::json clip = {{"searched", false}};
            const bool clipRole = role != LinearRole::Q && role != LinearRole::K;
            if (config_.awqClip && clipRole && xs.rows() > 0) {
                const Eigen::Index tokens = std::min<Eigen::Index>(xs.rows(), config_.awqClipTokens);
                const int gs = config_.groupSize > 0 && config_.groupSize < w.cols() ? config_.groupSize : int(w.cols());
                // The Gram form costs gs / tokens of the direct one: per channel over few tokens
                // the direct form is cheaper.
                const auto form = gs <= tokens ? AwqClipForm::Gram : AwqClipForm::Direct;
                // On a real GPU the errors come from awq_clip.comp; lavapipe (the CPU as a Vulkan
                // device) runs it ~25x slower than the CPU twin, so there the CPU computes.
                compute::Backend* clipOn = ctx.backend->isCpuDevice() ? nullptr : ctx.backend.get();
                const auto c = searchAwqClip(w, xs.topRows(tokens), grid, config_.groupSize, 20, 0.5f, form, clipOn);
                applyAwqClip(w, c.maxVal, config_.groupSize);
                clip = {{"searched", true},
                        {"tokens", tokens},
                        {"form", form == AwqClipForm::Gram ? "gram" : "direct"},
                        {"mean_shrink", c.meanShrink},
                        {"min_shrink", c.minShrink},
                        {"fraction_clipped", c.fractionClipped},
                        {"group_error_unclipped", c.errorUnclipped},
                        {"group_error_clipped", c.errorClipped}};
            } else if (!clipRole) {
                clip["skipped"] = "q and k are not clipped (AutoAWQ)";
            }
            times.clip += since(t);

            t = Clock::now();
            const StoredGroupwise stored = storeGroupwiseParallel(w, grid, config_.groupSize);
            auto op = std::make_shared<runtime::BackendLinear>(
                ctx.backend, std::make_shared<const compute::WeightMatrix>(stored.matrix), bias);
            times.store += since(t);

            // Metrics in the original space: diag(out) dequant diag(1/in) against W, so they
            // compare with every other method's; the output error on the original inputs, both
            // products on the backend (the original linear and (x / in) Q^T diag(out)).
            t = Clock::now();
            const Mat effective = unscale(dequantizeParallel(stored.matrix), in, out);
            fillMetrics(r, w0, stored, Mat(), &effective);
            if (x.rows() > 0)
                r.outputRelError = outputError(*saved[std::size_t(role)], *op, x, xs, out, biases[std::size_t(role)]);
            times.metrics += since(t);

            const int g = groupOf(role);
            const auto& choice = search.groups[std::size_t(g)];
            nlohmann::json scaling = {{"group", choice.name}, {"searched", choice.searched}};
            if (choice.searched) {
                scaling["ratio"] = choice.ratio;
                scaling["kept_rtn"] = choice.keptRtn; // s = 1: no ratio beat plain RTN
                scaling["module_mse"] = choice.error;
                scaling["module_mse_rtn"] = choice.rtnError;
                scaling["mse_per_ratio"] = choice.errors;
                scaling["scale_min"] = in.minCoeff();
                scaling["scale_max"] = in.maxCoeff();
                scaling["search_seconds"] = choice.seconds;
                scaling["search_tokens"] = search.tokens;
                scaling["judged_on"] = search.judgedOn;
            } else {
                scaling["skipped"] = choice.skipReason;
            }
            r.choices["bits"] = config_.bits;
            r.choices["group_size"] = config_.groupSize <= 0 || config_.groupSize >= w.cols() ? 0 : config_.groupSize;
            r.choices["symmetric"] = config_.symmetric;
            r.choices["scales"] = config_.awqXOnly ? "x-only: x_mean^r (llm-awq)" : "duo: x_mean^r / w_mean^(1-r) (AutoAWQ)";
            r.choices["scaling"] = std::move(scaling);
            r.choices["clip"] = std::move(clip);
            // The block's search time shared among the group's linears, plus this linear's own.
            r.seconds = choice.seconds / double(linearsInGroup(g)) + since(t0);
            weights.linear(role) = std::move(op);
            reports.push_back(std::move(r));
        }
        times.total = since(tBlock);
        spdlog::info("awq block {}: {:.2f} s (read weights {:.2f}, module outputs {:.2f}, scale search {:.2f} of which "
                     "quantizing candidates {:.2f}, clip {:.2f}, store {:.2f}, metrics {:.2f}); judged on {}",
                     block, times.total, times.read, times.gather, times.search, times.searchQuantize, times.clip,
                     times.store, times.metrics, search.judgedOn);
        const nlohmann::json timing = {{"total", times.total},     {"read_weights", times.read},
                                       {"module_outputs", times.gather}, {"scale_search", times.search},
                                       {"scale_search_quantize", times.searchQuantize}, {"clip", times.clip},
                                       {"store", times.store},     {"metrics", times.metrics}};
        for (auto it = reports.end() - 7; it != reports.end(); ++it)
            it->choices["awq_block_seconds"] = timing;
    }

private:
    QuantConfig config_;
};

} // namespace

std::unique_ptr<Method> makeAwqMethod(const QuantConfig& config)
{
    return std::make_unique<AwqMethod>(config);
}

} // namespace qs::quant
