// SmoothQuant W8A8 (Xiao et al. 2023; smoothquant's smooth.py and fake_quant.py): smooth the
// inputs of q,k,v and gate,up into their weights (smoothquant_scaling.hpp), then run every
// linear of the block as int8 weights x int8 activations (w8a8_linear.hpp).
//
// Quantization levels of the paper (Table 3), all with per-tensor weights there:
//   O1: per-token dynamic activations      O2: per-tensor dynamic      O3: per-tensor static
// Here the weights are per output channel (as fake_quant.py's W8A8Linear), finer than the
// paper's per-tensor; activations are per-token dynamic (O1-like, the default) or per-tensor
// static (O3-like, the scale from the calibration absmax of the smoothed input / 127).
// alpha: 0.5 by default (the paper's default); presets: 0.8-0.85 for the Llama family (the
// smoothquant repository's Llama-2 / Mistral scripts), 0.75-0.8 for OPT/BLOOM-176B.
#include "core/quant/layer_metrics.hpp"
#include "core/quant/linear_loop.hpp"
#include "core/quant/methods.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "core/quant/w8a8_linear.hpp"
#include "core/util/error.hpp"

#include <chrono>
#include <cmath>

namespace qs::quant {

namespace {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

nlohmann::json summarize(const Vec& v)
{
    return {{"min", v.minCoeff()}, {"max", v.maxCoeff()}, {"mean", v.mean()}};
}

class SmoothQuantMethod : public Method {
public:
    explicit SmoothQuantMethod(const QuantConfig& c) : config_(c)
    {
        if (c.bits != 8)
            throw Error("smoothquant: W8A8 only (bits must be 8, got " + std::to_string(c.bits) + ")");
        if (!(c.alpha >= 0.0f && c.alpha <= 1.0f))
            throw Error("smoothquant: alpha must lie in [0, 1], got " + std::to_string(c.alpha));
    }
    std::string name() const override { return "smoothquant"; }
    bool needsCalibration() const override { return true; }
    calib::CaptureOptions captureOptions() const override
    {
        return calib::CaptureOptions::withoutHessian(config_.seed, 256); // only for the reported output error
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        if (!cal || !cal->hasStats(LinearRole::Q))
            throw Error("smoothquant needs calibration statistics");
        const auto t0 = std::chrono::steady_clock::now();
        const int block = cal->block;
        auto& weights = model.weights().blocks[std::size_t(block)];

        std::array<Mat, 7> original;
        for (auto role : runtime::kAllLinearRoles)
            original[std::size_t(role)] = currentWeight(*weights.linear(role));
        // Scales from the ORIGINAL inputs' absmax; the norms change here, before the pipeline
        // recomputes this block's outputs.
        const SmoothingScales scales = computeSmoothingScales(weights, *cal, config_.alpha);
        applySmoothing(weights, scales);
        const double smoothSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        quantizeEachLinear(weights, block, reports,
                           [&](LinearRole role, const Mat& smoothed, const std::optional<Vec>& bias,
                               LayerReport& r) -> std::shared_ptr<runtime::LinearOp> {
            const Vec* s = nullptr; // input scaling of this linear (none for o, down)
            if (role == LinearRole::Q || role == LinearRole::K || role == LinearRole::V)
                s = &scales.attention;
            else if (role == LinearRole::Gate || role == LinearRole::Up)
                s = &scales.mlp;
            auto q = std::make_shared<const compute::WeightMatrix>(quantizeInt8PerChannel(smoothed));

            const Vec absmax = cal->forLinear(role).absmax();
            const Vec smoothedAbsmax = s ? Vec(absmax.cwiseQuotient(*s)) : absmax;
            const bool perTensor = config_.activationQuant == ActivationQuant::PerTensorStatic;
            const float staticScale = perTensor ? std::max(smoothedAbsmax.maxCoeff(), 1e-5f) / 127.0f : 0.0f;
            auto op = std::make_shared<W8A8Linear>(ctx.backend, q, bias, staticScale);

            // Weight metrics in the original space: dequant(W_s) diag(1/s) against W.
            Mat effective = dequantize(*q);
            if (s)
                effective.array().rowwise() /= s->transpose().array();
            const Mat x = cal->sampleFor(role); // original inputs of this block
            fillMetrics(r, original[std::size_t(role)], *q, x, &effective);
            // The output error includes the activation quantization: the W8A8 layer on the
            // smoothed inputs against the original f32 layer on the original inputs.
            if (x.rows() > 0) {
                Mat xs = x;
                if (s)
                    xs.array().rowwise() /= s->transpose().array();
                Mat y, yq;
                runtime::DenseLinear(original[std::size_t(role)], bias).forward(x, y);
                op->forward(xs, yq);
                const double denom = double(y.norm());
                r.outputRelError = denom > 0 ? double((y - yq).norm()) / denom : 0.0;
            }
            r.choices = {{"alpha", config_.alpha},
                         {"weights", "int8 per output channel absmax"},
                         {"activations", perTensor ? "int8 per-tensor static (O3)" : "int8 per-token dynamic (O1)"},
                         {"smoothed", s != nullptr},
                         {"activation_absmax", absmax.maxCoeff()},
                         {"smoothed_activation_absmax", smoothedAbsmax.maxCoeff()},
                         {"output_error_includes_activation_quant", true}};
            if (s)
                r.choices["smoothing_scales"] = summarize(*s);
            if (perTensor)
                r.choices["static_activation_scale"] = staticScale;
            r.seconds = role == LinearRole::Q ? smoothSeconds : 0.0;
            return op;
        });
    }

private:
    QuantConfig config_;
};

} // namespace

std::unique_ptr<Method> makeSmoothQuantMethod(const QuantConfig& config)
{
    return std::make_unique<SmoothQuantMethod>(config);
}

} // namespace qs::quant
