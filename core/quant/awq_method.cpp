// AWQ (Lin et al. 2024; llm-awq auto_scale.py / auto_clip.py, AutoAWQ's quantizer): per block,
//  1. search one per-input-channel scale per scaling group (awq_search.hpp), on the block's
//     unquantized weights, judged on the output of the module the group feeds;
//  2. fold the scales into the block (awq_scaling.hpp), which leaves its f32 function unchanged;
//  3. search a clamp per output channel and group (awq_clip.hpp), skipped for q and k whose
//     errors are amplified by the attention scores (AutoAWQ's avoid list);
//  4. quantize the scaled, clamped weights group-wise (4-bit, group 128, zero point by default)
//     and run them as IntGroupwise on the context's backend.
#include "core/quant/awq_clip.hpp"
#include "core/quant/awq_search.hpp"
#include "core/quant/groupwise_storage.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/linear_loop.hpp"
#include "core/quant/methods.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

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
        const int block = cal->block;
        auto& weights = model.weights().blocks[std::size_t(block)];
        std::array<Mat, 7> original;
        for (auto role : runtime::kAllLinearRoles)
            original[std::size_t(role)] = currentWeight(*weights.linear(role));

        const AwqBlockSearch search = searchAwqScales(model, *cal, config_);
        applyAwqScales(weights, search.scales);

        const GroupGrid grid{config_.bits, config_.symmetric};
        quantizeEachLinear(weights, block, reports,
                           [&](LinearRole role, const Mat& scaled, const std::optional<Vec>& bias,
                               LayerReport& r) -> std::shared_ptr<runtime::LinearOp> {
            Mat w = scaled; // diag(1/out) W diag(in)
            const Vec in = awqInputScale(search.scales, role, int(w.cols()));
            const Vec out = awqOutputScale(search.scales, role, int(w.rows()));
            const Mat x = cal->sampleFor(role); // original inputs of this block
            Mat xs = x;
            xs.array().rowwise() /= in.transpose().array();

            nlohmann::json clip = {{"searched", false}};
            const bool clipRole = role != LinearRole::Q && role != LinearRole::K;
            if (config_.awqClip && clipRole && xs.rows() > 0) {
                const auto c = searchAwqClip(w, xs.topRows(std::min<Eigen::Index>(xs.rows(), config_.awqClipTokens)),
                                             grid, config_.groupSize);
                applyAwqClip(w, c.maxVal, config_.groupSize);
                clip = {{"searched", true},
                        {"tokens", std::min<Eigen::Index>(xs.rows(), config_.awqClipTokens)},
                        {"mean_shrink", c.meanShrink},
                        {"min_shrink", c.minShrink},
                        {"fraction_clipped", c.fractionClipped},
                        {"group_error_unclipped", c.errorUnclipped},
                        {"group_error_clipped", c.errorClipped}};
            } else if (!clipRole) {
                clip["skipped"] = "q and k are not clipped (AutoAWQ)";
            }

            const auto result = quantizeGroupwise(w, grid, config_.groupSize);
            const auto stored = storeGroupwise(result, int(w.rows()), int(w.cols()), grid);

            // Metrics in the original space: diag(out) dequant diag(1/in) against W, on the
            // original inputs, so they compare with every other method's.
            Mat effective = dequantize(stored.matrix);
            effective.array().colwise() *= out.array();
            effective.array().rowwise() /= in.transpose().array();
            fillMetrics(r, original[std::size_t(role)], stored, x, &effective);

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
            } else {
                scaling["skipped"] = choice.skipReason;
            }
            r.choices["bits"] = config_.bits;
            r.choices["group_size"] = result.groupSize >= int(w.cols()) ? 0 : result.groupSize;
            r.choices["symmetric"] = config_.symmetric;
            r.choices["scales"] = config_.awqXOnly ? "x-only: x_mean^r (llm-awq)" : "duo: x_mean^r / w_mean^(1-r) (AutoAWQ)";
            r.choices["scaling"] = std::move(scaling);
            r.choices["clip"] = std::move(clip);
            r.seconds = choice.seconds / double(linearsInGroup(g)); // the group's search time, shared
            return std::make_shared<runtime::BackendLinear>(ctx.backend,
                                                            std::make_shared<const compute::WeightMatrix>(stored.matrix), bias);
        });
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
