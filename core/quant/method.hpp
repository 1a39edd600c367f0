#pragma once
// One interface for every quantization method. A method quantizes a model block by block as
// calibration streams through it (block_capture.hpp): for each block it replaces the block's
// linears with quantized ones (and may rescale norms or neighbouring weights, as SmoothQuant
// and AWQ do), and reports, per linear, what it chose and what it cost.
#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "core/jobs/progress.hpp"
#include "core/quant/quant_config.hpp"
#include "core/runtime/transformer.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace qs::quant {

struct LayerReport {
    std::string name;            // "model.layers.3.self_attn.q_proj"
    int block = 0;
    runtime::LinearRole role = runtime::LinearRole::Q;
    std::string format;          // compute::formatName of the result: "int4-g128-asym", "nf4-dq", ...
    double bitsPerWeight = 0;    // including scales, zeros and other metadata
    double weightMse = 0;        // mean (W - W')^2 against the weight the method started from
    double sqnrDb = 0;           // 10 log10(sum W^2 / sum (W - W')^2)
    double outputRelError = 0;   // ||X W^T - X W'^T|| / ||X W^T|| on calibration input rows
    double seconds = 0;
    nlohmann::json choices;      // what it chose: scales summary, alpha, ratio, clip, damp used ...
};

// What a method works with: the backend for its heavy products, options and progress.
struct MethodContext {
    std::shared_ptr<compute::Backend> backend; // CPU reference or Vulkan
    const QuantConfig* config = nullptr;
    jobs::Progress* progress = nullptr;
};

class Method {
public:
    virtual ~Method() = default;
    virtual std::string name() const = 0;
    virtual bool needsCalibration() const = 0;
    // What calibration must gather (Hessians for GPTQ, samples for AWQ/SmoothQuant).
    virtual calib::CaptureOptions captureOptions() const { return {}; }
    // Quantizes block cal.block of model in place (cal is null when !needsCalibration()) and
    // appends one report per linear.
    virtual void quantizeBlock(runtime::Transformer& model, const calib::BlockCalibration* cal, const MethodContext& ctx,
                               std::vector<LayerReport>& reports) = 0;
};

// "rtn", "absmax", "smoothquant", "gptq", "awq", "nf4"; throws qs::Error for anything else or
// an invalid setting (naming it).
std::unique_ptr<Method> makeMethod(const QuantConfig& config);
const std::vector<std::string>& methodNames();

} // namespace qs::quant
