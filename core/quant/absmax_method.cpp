// Absmax INT8: per output channel (default) or per tensor, scale = max|w| / 127, codes
// round(w / scale). With QuantConfig::outlierThreshold > 0, LLM.int8()'s decomposition: the
// input columns whose calibration absmax exceeds the threshold (6.0 in the paper) stay f16
// (outlier_linear.hpp), the rest go int8.
#include "core/quant/absmax_int8.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/linear_loop.hpp"
#include "core/quant/methods.hpp"
#include "core/quant/outlier_linear.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

namespace {

class AbsmaxMethod : public Method {
public:
    explicit AbsmaxMethod(const QuantConfig& c) : config_(c)
    {
        if (c.bits != 8 && c.bits != 4) // 4 is QuantConfig's default: the caller did not ask for bits
            throw Error("absmax: " + std::to_string(c.bits) + " bits is not supported (int8 only)");
        if (!(c.outlierThreshold >= 0.0f) || !std::isfinite(c.outlierThreshold))
            throw Error("absmax: outlier threshold must be finite and >= 0 (0 turns it off)");
    }
    std::string name() const override { return "absmax"; }
    bool needsCalibration() const override { return config_.outlierThreshold > 0.0f; }
    calib::CaptureOptions captureOptions() const override
    {
        return calib::CaptureOptions::withoutHessian(config_.seed);
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        const int block = cal ? cal->block : 0;
        quantizeEachLinear(
            model.weights().blocks[std::size_t(block)], block, reports,
            [&](runtime::LinearRole role, const runtime::Mat& w, const std::optional<runtime::Vec>& bias,
                LayerReport& r) -> std::shared_ptr<runtime::LinearOp> {
                const runtime::Mat x = cal ? cal->sampleFor(role) : runtime::Mat();
                r.choices = {{"per_tensor", config_.perTensor}};
                if (config_.outlierThreshold > 0.0f) {
                    if (!cal || !cal->hasStats(role))
                        throw Error("absmax: outlier columns need calibration statistics for " + r.name);
                    const auto columns = outlierColumns(cal->forLinear(role).absmax(), config_.outlierThreshold);
                    auto op = std::make_shared<OutlierLinear>(ctx.backend, w, columns, config_.perTensor, bias);
                    const runtime::Mat effective = op->effectiveWeight();
                    fillMetrics(r, w, op->int8Weight(), x, &effective);
                    r.format = "int8-channel+f16-outliers";
                    r.bitsPerWeight = 8.0 * double(op->storedBytes()) / double(w.size());
                    r.choices["outlier_threshold"] = config_.outlierThreshold;
                    r.choices["outlier_columns"] = columns.size();
                    r.choices["activation_absmax_max"] = double(cal->forLinear(role).absmax().maxCoeff());
                    r.choices["scale_max"] = maxScale(op->int8Weight());
                    return op;
                }
                auto q = std::make_shared<const compute::WeightMatrix>(quantizeAbsmaxInt8(w, config_.perTensor));
                fillMetrics(r, w, *q, x);
                r.choices["scale_max"] = maxScale(*q);
                return std::make_shared<runtime::BackendLinear>(ctx.backend, q, bias);
            });
    }

private:
    static std::vector<int> outlierColumns(const runtime::Vec& absmax, float threshold)
    {
        std::vector<int> cols;
        for (Eigen::Index c = 0; c < absmax.size(); ++c)
            if (absmax(c) > threshold)
                cols.push_back(int(c));
        return cols;
    }
    static double maxScale(const compute::WeightMatrix& w)
    {
        const auto& s = std::get<compute::Int8PerChannel>(w).scale;
        return s.empty() ? 0.0 : double(*std::max_element(s.begin(), s.end()));
    }

    QuantConfig config_;
};

} // namespace

std::unique_ptr<Method> makeAbsmaxMethod(const QuantConfig& config)
{
    return std::make_unique<AbsmaxMethod>(config);
}

} // namespace qs::quant
