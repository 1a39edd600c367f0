#pragma once
// The scale search of AWQ over one decoder block, the Llama groups of AutoAWQ's
// get_layers_for_scaling, each judged on the output of the module its scaled linears feed:
//   input_layernorm -> q,k,v     judged on the attention output (o_proj's output)
//   v -> o                       judged on o_proj's output; only when v's outputs are o's inputs
//                                one to one (no GQA)
//   post_attention_layernorm -> gate,up   judged on the MLP output
//   up -> down                   judged on down_proj's output
// Every group is searched on the block's unscaled weights, as AutoAWQ does, and the scales
// are applied together afterwards (applyAwqScales).
//
// A candidate s is judged one of two ways, the same function of X up to rounding:
//  - on a backend (CPU reference or Vulkan): W diag(s) quantized into the kernels' group-wise
//    format (awq_packing.hpp) and run as (X / s) Q(W diag(s))^T through runtime::BackendLinear,
//    1/s folded into the module's input (the preceding RMSNorm for q,k,v and gate,up; the input
//    rows for o and down). On the Vulkan backend that is the int4 dequant-GEMM kernels
//    (cooperative matrices on X in f16 from 64 rows);
//  - the f32 reference (no backend, or codes no kernel holds): Q(W diag(s)) diag(1/s)
//    fake-quantized and run densely through Eigen, as AutoAWQ does.
#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "core/quant/awq_scaling.hpp"
#include "core/quant/quant_config.hpp"
#include "core/runtime/transformer.hpp"

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qs::quant {

// Tokens of calibration the scale search reruns the block's halves on (whole samples, at
// least one). The search runs each judged module 21 times per group, so its cost is about
// 21 forward passes of the block over these tokens; AutoAWQ uses every calibration token
// (128 x 512), which on the 2-core CPU would take minutes per block of the demo model.
// 512 tokens keep the demo model's whole AWQ run to seconds; the statistics (mean |x|) still
// come from every calibration token.
constexpr int kAwqSearchTokens = 512;

struct AwqGroupChoice {
    std::string name;            // "input_layernorm -> q,k,v"
    bool searched = false;       // false: skipped (see skipReason), no scaling applied
    std::string skipReason;
    float ratio = 0;             // the chosen grid ratio
    double error = 0;            // mean squared output error of the judged module at that ratio
    double rtnError = 0;         // the same with s = 1: plain RTN of the group's linears
    bool keptRtn = false;        // no grid ratio beat s = 1 on the module: the group keeps s = 1
    std::vector<double> errors;  // per ratio of the grid
    double seconds = 0;
    double quantizeSeconds = 0;  // of which quantizing the candidates (the rest: running the module)
};

struct AwqBlockSearch {
    AwqBlockScales scales;
    std::vector<AwqGroupChoice> groups; // qkv, vo, gateUp, down
    int tokens = 0;                     // calibration tokens the modules were run on
    std::string judgedOn;               // "cpu (Eigen)", "vulkan: ...", "f32 fake quantization"
    double gatherSeconds = 0;           // the modules' unquantized outputs
};

// The output MSE of the judged module when the group's linears hold the given weights (in the
// order the weights were passed).
using AwqJudge = std::function<double(const std::vector<runtime::Mat>&)>;

// The output MSE of the judged module when the group's linears are quantized under input
// scales s (s = 1: plain RTN).
using AwqScaleJudge = std::function<double(const runtime::Vec& s)>;

// The grid search of one group: for r = i / config.awqGrid, s = awqScalesForRatio(xMean,
// awqWeightMean(weights), r), judge(fakeQuantizeScaled(W, s) for every W); keeps the lowest
// error. rtnError is judge(plain RTN of every W). With duo scaling r = 0 is not s = 1, so the
// grid may miss plain RTN; when RTN's error is lower the group keeps s = 1 (keptRtn), as
// llm-awq's x-only grid, whose r = 0 is s = 1, would. AWQ's module error is then never above
// RTN's (AutoAWQ's duo grid alone does not promise that).
AwqGroupChoice searchAwqRatio(const std::string& name, const runtime::Vec& xMean, const std::vector<runtime::Mat>& weights,
                              const QuantConfig& config, const AwqJudge& judge);

// The same grid search with a judge of the scales themselves; wMean is awqWeightMean of the
// group's weights. The judge is called with s = 1 last (the RTN baseline).
AwqGroupChoice searchAwqRatio(const std::string& name, const runtime::Vec& xMean, const runtime::Vec& wMean,
                              const QuantConfig& config, const AwqScaleJudge& judge);

struct AwqSearchOptions {
    // Where the judged modules run, in the kernels' group-wise format; null: the f32 reference
    // (fake quantization through Eigen). Grids no kernel holds (5 to 8 bits, groups that are
    // not multiples of 32) use the reference whatever is given.
    std::shared_ptr<compute::Backend> backend;
    int maxTokens = kAwqSearchTokens;
    // The block's weights [out][in] by role when the caller has read them already.
    const std::array<runtime::Mat, 7>* weights = nullptr;
};

// Searches block cal.block of model (whose linears must still hold the unquantized weights)
// on cal.inputs; the model is left as it was. mean |x| per channel comes from the calibration
// statistics (meanAbs of each input site).
AwqBlockSearch searchAwqScales(runtime::Transformer& model, const calib::BlockCalibration& cal,
                               const QuantConfig& config, const AwqSearchOptions& options = {});

} // namespace qs::quant
