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
#include "core/calib/block_capture.hpp"
#include "core/quant/awq_scaling.hpp"
#include "core/quant/quant_config.hpp"
#include "core/runtime/transformer.hpp"

#include <functional>
#include <string>
#include <vector>

namespace qs::quant {

// Tokens of calibration the scale search reruns the block's halves on (whole samples, at
// least one): bounds the search's cost, 20 module runs per group, on large calibration sets.
constexpr int kAwqSearchTokens = 4096;

struct AwqGroupChoice {
    std::string name;            // "input_layernorm -> q,k,v"
    bool searched = false;       // false: skipped (see skipReason), no scaling applied
    std::string skipReason;
    float ratio = 0;             // the chosen grid ratio
    double error = 0;            // mean squared output error of the judged module at that ratio
    double rtnError = 0;         // the same with s = 1: plain RTN of the group's linears
    std::vector<double> errors;  // per ratio of the grid
    double seconds = 0;
};

struct AwqBlockSearch {
    AwqBlockScales scales;
    std::vector<AwqGroupChoice> groups; // qkv, vo, gateUp, down
    int tokens = 0;                     // calibration tokens the modules were run on
};

// The output MSE of the judged module when the group's linears hold the given weights (in the
// order the weights were passed).
using AwqJudge = std::function<double(const std::vector<runtime::Mat>&)>;

// The grid search of one group: for r = i / config.awqGrid, s = awqScalesForRatio(xMean,
// awqWeightMean(weights), r), judge(fakeQuantizeScaled(W, s) for every W); keeps the lowest
// error. rtnError is judge(plain RTN of every W).
AwqGroupChoice searchAwqRatio(const std::string& name, const runtime::Vec& xMean, const std::vector<runtime::Mat>& weights,
                              const QuantConfig& config, const AwqJudge& judge);

// Searches block cal.block of model (whose linears must still hold the unquantized weights)
// on cal.inputs; the model is left as it was. mean |x| per channel comes from the calibration
// statistics (meanAbs of each input site).
AwqBlockSearch searchAwqScales(runtime::Transformer& model, const calib::BlockCalibration& cal,
                               const QuantConfig& config, int maxTokens = kAwqSearchTokens);

} // namespace qs::quant
