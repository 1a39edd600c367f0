#pragma once
// The compare job (worker side): the reference logits once, then every method on a fresh
// Transformer with the same calibration set, each evaluated against the reference. A method
// that fails (not implemented, invalid setting) is reported as an error row; the others go on.
// Cancelling throws jobs::Cancelled out of the whole job: nothing partial is returned.
#include "core/eval/model_eval.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "ui/compare/compare_settings.hpp"
#include "ui/compare/layer_snapshots.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qs::ui {

struct MethodResult {
    std::string method;
    std::string config;        // QuantConfig::describe()
    std::string error;         // non-empty when the method failed
    quant::QuantizationRun run;
    eval::ModelEvaluation eval;
    double seconds = 0;        // quantize + evaluate, wall time
    bool ok() const { return error.empty(); }
};

struct CompareResults {
    std::string backendName;
    int calibrationSamples = 0, calibrationLength = 0;
    int evalContext = 0, evalWindows = 0;
    double originalPerplexity = 0;
    std::vector<MethodResult> methods;
    std::shared_ptr<const KeptLayers> kept; // each linear's weights under each method (budgeted)
};

// Stage prefixes come from makeProgress (JobContext), e.g. "[2/5] gptq: "; the first argument
// builds one for a label.
using ProgressFactory = std::function<jobs::Progress(const std::string& prefix)>;

std::shared_ptr<CompareResults> runCompare(const model::Model& model, const CompareSettings& settings,
                                           const ProgressFactory& progressFor);

} // namespace qs::ui
