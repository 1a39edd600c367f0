// RTN: round every weight to the nearest point of a uniform grid, per output channel or per
// group of input columns, symmetric or with a zero point. The baseline every method is judged
// against; it needs no calibration (inputs are used only to report the output error).
#include "core/quant/groupwise.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/methods.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <chrono>

namespace qs::quant {

namespace {

class RtnMethod : public Method {
public:
    explicit RtnMethod(const QuantConfig& c) : config_(c)
    {
        if (c.bits < 2 || c.bits > 4)
            throw Error("rtn: " + std::to_string(c.bits) + " bits is not supported (2, 3 or 4; use absmax for 8)");
        if (c.groupSize < 0)
            throw Error("rtn: group size must be 0 (per channel) or positive");
    }
    std::string name() const override { return "rtn"; }
    bool needsCalibration() const override { return false; }
    calib::CaptureOptions captureOptions() const override
    {
        calib::CaptureOptions o;
        o.hessian = false;
        o.seed = config_.seed;
        return o;
    }

    void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                       std::vector<LayerReport>& reports) override
    {
        const int block = cal ? cal->block : 0;
        auto& weights = model.weights().blocks[std::size_t(block)];
        const GroupGrid grid{config_.bits, config_.symmetric};
        for (auto role : runtime::kAllLinearRoles) {
            const auto t0 = std::chrono::steady_clock::now();
            auto& slot = weights.linear(role);
            const runtime::Mat w = currentWeight(*slot);
            const auto result = quantizeGroupwise(w, grid, config_.groupSize);
            auto q = std::make_shared<const compute::WeightMatrix>(
                toIntGroupwise(result, int(w.rows()), int(w.cols()), grid));
            LayerReport r;
            r.name = linearName(block, role);
            r.block = block;
            r.role = role;
            r.choices = {{"group_size", result.groupSize}, {"bits", config_.bits}, {"symmetric", config_.symmetric}};
            fillMetrics(r, w, *q, cal ? cal->sampleFor(role) : runtime::Mat());
            slot = std::make_shared<runtime::BackendLinear>(ctx.backend, q, currentBias(*slot));
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            reports.push_back(std::move(r));
        }
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
