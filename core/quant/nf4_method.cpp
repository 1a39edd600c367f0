// NF4 (QLoRA / bitsandbytes quantize_4bit): 4-bit NormalFloat codes in blocks of 64 values of
// the flattened weight, absmax per block, optionally double-quantized (nf4_blockwise.hpp).
// No calibration: inputs are used only to report the output error.
// FP4 (QuantConfig::fp4) follows bitsandbytes' FP4 table and rounding, but compute's Nf4
// format has a fixed NF4 table, so FP4 layers run as f16 weights holding the dequantized FP4
// values; the report's bits per weight is FP4's storage (what an export writes), and
// "runtime_format" says what actually runs.
#include "core/quant/layer_metrics.hpp"
#include "core/quant/linear_loop.hpp"
#include "core/quant/methods.hpp"
#include "core/quant/nf4_blockwise.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

namespace {

class Nf4Method : public Method {
public:
    explicit Nf4Method(const QuantConfig& c) : config_(c)
    {
        if (c.nf4BlockSize != compute::Nf4::kBlockSize)
            throw Error("nf4: block size " + std::to_string(c.nf4BlockSize) +
                        " is not supported (the compute format uses 64, bitsandbytes' default)");
    }
    std::string name() const override { return "nf4"; }
    bool needsCalibration() const override { return false; }
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
                r.choices = {{"type", config_.fp4 ? "fp4" : "nf4"},
                             {"block_size", config_.nf4BlockSize},
                             {"double_quant", config_.doubleQuant}};
                std::shared_ptr<const compute::WeightMatrix> q;
                if (config_.fp4) {
                    const auto fp4 = quantizeFp4(w, config_.nf4BlockSize, config_.doubleQuant);
                    q = std::make_shared<const compute::WeightMatrix>(runtime::toDenseHalf(fp4.dequantized));
                    fillMetrics(r, w, *q, x); // what runs: the f16 rounding of the FP4 values
                    r.format = config_.doubleQuant ? "fp4-dq" : "fp4";
                    r.bitsPerWeight = fp4.storageBitsPerWeight;
                    r.choices["runtime_format"] = "f16 (dequantized FP4 values)";
                } else {
                    auto nf4 = quantizeNf4(w, config_.doubleQuant);
                    if (nf4.doubleQuant)
                        r.choices["absmax_offset"] = nf4.absmaxOffset;
                    q = std::make_shared<const compute::WeightMatrix>(std::move(nf4));
                    fillMetrics(r, w, *q, x);
                }
                return std::make_shared<runtime::BackendLinear>(ctx.backend, q, bias);
            });
    }

private:
    QuantConfig config_;
};

} // namespace

std::unique_ptr<Method> makeNf4Method(const QuantConfig& config)
{
    return std::make_unique<Nf4Method>(config);
}

} // namespace qs::quant
