// RTN: round every weight to the nearest point of a uniform grid, per output channel or per
// group of input columns, symmetric or with a zero point. The baseline every method is judged
// against; it needs no calibration (inputs are used only to report the output error).
// 2-4 bits run as IntGroupwise (per channel as repeated groups), 5-8 bits per channel as int8,
// 5-8 bits in groups as f16 dequantized values (groupwise_storage.hpp).
#include "core/quant/groupwise_storage.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/linear_loop.hpp"
#include "core/quant/methods.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

namespace {

class RtnMethod : public Method {
public:
    explicit RtnMethod(const QuantConfig& c) : config_(c)
    {
        if (c.bits < 2 || c.bits > 8)
            throw Error("rtn: " + std::to_string(c.bits) + " bits is not supported (2 to 8)");
        if (c.groupSize < 0)
            throw Error("rtn: group size must be 0 (per channel) or positive");
    }
    std::string name() const override { return "rtn"; }
    bool needsCalibration() const override { return false; }
    calib::CaptureOptions captureOptions() const override
    {
        return calib::CaptureOptions::withoutHessian(config_.seed);
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        const int block = cal ? cal->block : 0;
        const GroupGrid grid{config_.bits, config_.symmetric};
        quantizeEachLinear(model.weights().blocks[std::size_t(block)], block, reports,
                           [&](runtime::LinearRole role, const runtime::Mat& w, const std::optional<runtime::Vec>& bias,
                               LayerReport& r) -> std::shared_ptr<runtime::LinearOp> {
                               const auto result = quantizeGroupwise(w, grid, config_.groupSize);
                               const int n = int(w.rows()), k = int(w.cols());
                               const auto stored = storeGroupwise(result, n, k, grid);
                               r.choices = {{"group_size", result.groupSize >= k ? 0 : result.groupSize},
                                            {"bits", config_.bits},
                                            {"symmetric", config_.symmetric}};
                               fillMetrics(r, w, stored, cal ? cal->sampleFor(role) : runtime::Mat());
                               return std::make_shared<runtime::BackendLinear>(
                                   ctx.backend, std::make_shared<const compute::WeightMatrix>(stored.matrix), bias);
                           });
    }

private:
    QuantConfig config_;
};

} // namespace

std::unique_ptr<Method> makeRtnMethod(const QuantConfig& config)
{
    return std::make_unique<RtnMethod>(config);
}

} // namespace qs::quant
