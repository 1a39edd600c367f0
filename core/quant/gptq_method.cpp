// GPTQ as a Method: each linear is quantized by gptq_solver from the Hessian 2/n X^T X of its
// inputs. With true-sequential order (gptq's llama.py: [k,v,q], o, [up,gate], down) the inputs
// of o, gate/up and down are recomputed through the block's already-quantized linears, so each
// later linear corrects the errors of the earlier ones; otherwise the captured Hessians are used.
#include "core/calib/sample_batches.hpp"
#include "core/compute/hessian_sum.hpp"
#include "core/quant/gptq_output.hpp"
#include "core/quant/gptq_solver.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/methods.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"
#include "core/util/stage_timer.hpp"

#include <algorithm>
#include <chrono>

namespace qs::quant {

namespace {

using runtime::LinearRole;
using runtime::Mat;

// 2/n sum x x^T over the rows of every matrix fed to it, accumulated on the backend in f32
// (rows stacked into batches; on a GPU the sum stays in device memory until read, and with
// HessianInputs::Half the rows are rounded to f16 on the tensor cores).
class HessianAccumulator {
public:
    HessianAccumulator(compute::Backend& backend, int channels, compute::HessianInputs inputs)
        : sum_(backend, channels, 0, inputs) {}
    void add(const Mat& x)
    {
        if (x.rows() == 0)
            return;
        sum_.add(x.data(), int(x.rows()));
        tokens_ += x.rows();
    }
    std::int64_t tokens() const { return tokens_; }
    // f32, as summed (the factorization averages h_ij and h_ji itself).
    Mat hessian()
    {
        if (tokens_ == 0)
            throw Error("gptq: no calibration tokens reached this linear");
        Mat sum(sum_.k(), sum_.k());
        sum_.read(sum.data());
        sum *= float(2.0 / double(tokens_));
        return sum;
    }

private:
    compute::BatchedHessianSum sum_;
    std::int64_t tokens_ = 0;
};

struct LinearHessian {
    Mat h; // 2/n X^T X in f32
    std::int64_t tokens = 0;
    const char* source = "capture";
};

// A Hessian's factor, made once for every linear that reads the same inputs.
struct FactoredHessian {
    GptqFactor factor;
    std::int64_t tokens = 0;
    const char* source = "capture";
    double seconds = 0; // to factor it (shared by its linears, not in their own seconds)
};

class GptqMethod : public Method {
public:
    explicit GptqMethod(const QuantConfig& c) : config_(c)
    {
        const bool int8PerChannel = c.bits == 8 && c.symmetric && c.groupSize == 0;
        if ((c.bits < 2 || c.bits > 4) && !int8PerChannel)
            throw Error("gptq: " + std::to_string(c.bits) +
                        " bits is not supported: the group-wise kernels hold 2, 3 or 4 bits, and 8 bits only as "
                        "int8 per channel (symmetric, group size 0)");
        if (c.groupSize < 0)
            throw Error("gptq: group size must be 0 (per channel) or positive");
        if (c.groupSize > 0 && c.groupSize % 32 != 0)
            throw Error("gptq: group size " + std::to_string(c.groupSize) + " is not a multiple of 32 (kernels hold 32, 64, 128)");
        if (!(c.damp > 0.0f))
            throw Error("gptq: damp must be positive (a fraction of the mean Hessian diagonal, default 0.01)");
        if (c.gptqBlockSize < 1)
            throw Error("gptq: block size must be positive (default 128)");
    }
    std::string name() const override { return "gptq"; }
    bool needsCalibration() const override { return true; }
    calib::CaptureOptions captureOptions() const override
    {
        calib::CaptureOptions o;
        o.hessian = true;
        // True-sequential order recomputes the Hessians of o, gate/up and down through the
        // quantized linears: only q/k/v's (the block input's) is read from the capture.
        if (config_.trueSequential)
            o.hessianSites = 1u << unsigned(calib::InputSite::Attention);
        o.hessianInputs = hessianInputs();
        o.seed = config_.seed;
        return o;
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        if (!cal || !cal->hasStats(LinearRole::Q))
            throw Error("gptq needs calibration statistics with Hessians");
        // On a GPU the factorization's and the sweep's large f32 products run there (the
        // column-by-column quantization stays on the CPU threads), unless asked otherwise.
        const bool onDevice = ctx.backend && ctx.backend->isGpu() &&
                              (config_.gptqSolve == GptqSolveOn::Gpu ||
                               (config_.gptqSolve == GptqSolveOn::Auto && !ctx.backend->isCpuDevice()));
        productBackend_ = onDevice ? ctx.backend.get() : nullptr;
        const std::size_t first = reports.size();
        const bool sequential = config_.trueSequential && cal->inputs && !cal->inputs->empty();

        const FactoredHessian attn = factored(captured(*cal, LinearRole::Q));
        for (auto role : {LinearRole::K, LinearRole::V, LinearRole::Q})
            quantizeLinear(model, *cal, role, attn, ctx, reports);

        if (!sequential) {
            quantizeLinear(model, *cal, LinearRole::O, factored(captured(*cal, LinearRole::O)), ctx, reports);
            const FactoredHessian mlp = factored(captured(*cal, LinearRole::Up)); // gate reads the same inputs
            for (auto role : {LinearRole::Up, LinearRole::Gate})
                quantizeLinear(model, *cal, role, mlp, ctx, reports);
            quantizeLinear(model, *cal, LinearRole::Down, factored(captured(*cal, LinearRole::Down)), ctx, reports);
        } else {
            quantizeSequentialRest(model, *cal, ctx, reports);
        }
        // Reports in the usual role order, whatever order the linears were quantized in.
        std::stable_sort(reports.begin() + std::ptrdiff_t(first), reports.end(),
                         [](const LayerReport& a, const LayerReport& c) { return int(a.role) < int(c.role); });
    }

private:
    static LinearHessian captured(const calib::BlockCalibration& cal, LinearRole role)
    {
        const auto& stats = cal.forLinear(role);
        Mat h = stats.gptqHessian();
        if (h.size() == 0)
            throw Error("gptq: calibration gathered no Hessian for " + linearName(cal.block, role));
        return {std::move(h), stats.tokens(), "capture"};
    }

    // o, then [up, gate], then down, each from inputs recomputed through the quantized linears
    // before it (q/k/v's input does not depend on the block, so the captured Hessian is exact).
    void quantizeSequentialRest(runtime::Transformer& model, const calib::BlockCalibration& cal,
                                const MethodContext& ctx, std::vector<LayerReport>& reports)
    {
        const int b = cal.block;
        const auto& spec = model.spec();
        const auto& weights = model.weights().blocks[std::size_t(b)];
        const auto& inputs = *cal.inputs;

        // The samples in stacked batches (sample_batches.hpp): every linear runs once per batch.
        const auto batches = calib::planSampleBatches(inputs, config_.calibBatchRows > 0 ? config_.calibBatchRows
                                                                                         : calib::kDefaultBatchRows);

        // o_proj's input: attention through the quantized q/k/v.
        std::vector<Mat> stream(batches.size()); // per batch: o inputs, then MLP inputs
        HessianAccumulator ho(*ctx.backend, int(spec.numHeads * spec.headDim), hessianInputs());
        runtime::ForwardHooks hooks;
        std::size_t current = 0;
        hooks.onLinearInput = [&](int, LinearRole role, const Mat& x) {
            if (role == LinearRole::O)
                stream[current] = x;
        };
        for (current = 0; current < batches.size(); ++current) {
            checkCancelled(ctx);
            Mat x = calib::stackBatch(inputs, batches[current]);
            runtime::Transformer::rmsNorm(x, weights.inputNorm, spec.rmsNormEps);
            model.attentionStacked(b, x, batches[current].seqLen, &hooks);
            ho.add(stream[current]);
        }
        quantizeLinear(model, cal, LinearRole::O, factored({ho.hessian(), ho.tokens(), "recomputed"}), ctx, reports);

        // The MLP input: the residual stream after the quantized attention, normalized.
        HessianAccumulator hm(*ctx.backend, int(spec.hiddenSize), hessianInputs());
        for (std::size_t i = 0; i < batches.size(); ++i) {
            checkCancelled(ctx);
            Mat y;
            weights.linear(LinearRole::O).forward(stream[i], y);
            Mat x = calib::stackBatch(inputs, batches[i]) + y;
            runtime::Transformer::rmsNorm(x, weights.postAttentionNorm, spec.rmsNormEps);
            stream[i] = std::move(x);
            hm.add(stream[i]);
        }
        const FactoredHessian mlpH = factored({hm.hessian(), hm.tokens(), "recomputed"});
        for (auto role : {LinearRole::Up, LinearRole::Gate})
            quantizeLinear(model, cal, role, mlpH, ctx, reports);

        // down_proj's input: silu(gate) * up through the quantized gate and up.
        HessianAccumulator hd(*ctx.backend, int(spec.intermediateSize), hessianInputs());
        runtime::ForwardHooks downHooks;
        downHooks.onLinearInput = [&](int, LinearRole role, const Mat& x) {
            if (role == LinearRole::Down)
                hd.add(x);
        };
        for (const auto& x : stream) {
            checkCancelled(ctx);
            model.mlp(b, x, &downHooks);
        }
        quantizeLinear(model, cal, LinearRole::Down, factored({hd.hessian(), hd.tokens(), "recomputed"}), ctx, reports);
    }

    GptqOptions options() const
    {
        GptqOptions o;
        o.grid = {config_.bits, config_.symmetric};
        o.groupSize = config_.groupSize;
        o.damp = config_.damp;
        o.actOrder = config_.actOrder;
        o.staticGroups = config_.staticGroups;
        o.mseGrid = config_.mseGrid;
        o.blockSize = config_.gptqBlockSize;
        // gptq.py's precision on the GPU; about twice the speed of double on the CPU, and a
        // small fraction of codes differ from the double reference (test_gptq_solver).
        o.precision = GptqPrecision::Single;
        o.keepDequantized = false; // the stored codes are what the model runs and the metrics read
        o.productBackend = productBackend_;
        return o;
    }

    FactoredHessian factored(const LinearHessian& h) const
    {
        const auto t0 = std::chrono::steady_clock::now();
        prof::StageTimer timer("gptq.factor");
        GptqFactor f = factorGptqHessian(h.h, options());
        return {std::move(f), h.tokens, h.source,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    }

    compute::HessianInputs hessianInputs() const
    {
        return config_.hessianHalf ? compute::HessianInputs::Half : compute::HessianInputs::Exact;
    }

    static void checkCancelled(const MethodContext& ctx)
    {
        if (ctx.progress)
            ctx.progress->checkCancelled();
    }

    void quantizeLinear(runtime::Transformer& model, const calib::BlockCalibration& cal, LinearRole role,
                        const FactoredHessian& hessian, const MethodContext& ctx, std::vector<LayerReport>& reports) const
    {
        checkCancelled(ctx);
        const auto t0 = std::chrono::steady_clock::now();
        const int b = cal.block;
        auto& slot = model.weights().blocks[std::size_t(b)].linear(role);
        prof::StageTimer weightTimer("gptq.weight");
        const Mat w = currentWeight(*slot);
        const int n = int(w.rows()), k = int(w.cols());
        weightTimer.stop();

        const GptqOptions o = options();
        prof::StageTimer sweepTimer("gptq.sweep");
        const GptqResult result = gptqQuantize(w, hessian.factor, o);
        sweepTimer.stop();
        prof::StageTimer storeTimer("gptq.store");
        const StoredGroupwise stored = storeGptqResult(result, n, k, o.grid);
        auto q = std::make_shared<const compute::WeightMatrix>(stored.matrix);
        storeTimer.stop();

        LayerReport r;
        r.name = linearName(b, role);
        r.block = b;
        r.role = role;
        r.choices = {{"bits", config_.bits},
                     {"group_size", config_.groupSize > 0 && config_.groupSize < k ? config_.groupSize : 0},
                     {"stored_group_size", stored.storedGroupSize},
                     {"symmetric", config_.symmetric},
                     {"act_order", config_.actOrder},
                     {"static_groups", config_.staticGroups && config_.groupSize > 0 && config_.groupSize < k},
                     {"mse_grid", config_.mseGrid},
                     {"damp", double(config_.damp)},
                     {"damp_used", result.dampUsed},
                     {"damp_tries", result.dampTries},
                     {"gptq_loss", result.loss},
                     {"dead_columns", result.deadColumns},
                     {"block_size", config_.gptqBlockSize},
                     {"hessian", hessian.source},
                     {"hessian_tokens", hessian.tokens},
                     {"hessian_factor_seconds", hessian.seconds},
                     {"solve_products", o.productBackend ? "gpu" : "cpu"}};
        prof::StageTimer metricsTimer("gptq.metrics");
        // Weight metrics on the host; the output error's two products on the sampled inputs run
        // where the linears do (the original one and the quantized one, on a GPU both there).
        const auto bias = currentBias(*slot);
        auto quantized = std::make_shared<runtime::BackendLinear>(ctx.backend, q, bias);
        fillMetrics(r, w, *q, Mat());
        if (const Mat x = cal.sampleFor(role); x.rows() > 0)
            r.outputRelError = outputRelError(*slot, *quantized, x, bias);
        metricsTimer.stop();
        slot = std::move(quantized);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.choices["seconds"] = r.seconds;
        reports.push_back(std::move(r));
    }

    QuantConfig config_;
    compute::Backend* productBackend_ = nullptr; // this block's GPU for the solve's products
};

} // namespace

std::unique_ptr<Method> makeGptqMethod(const QuantConfig& config)
{
    return std::make_unique<GptqMethod>(config);
}

} // namespace qs::quant
