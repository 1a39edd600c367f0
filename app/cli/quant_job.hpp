#pragma once
// The work behind `quantize` and `compare`: open, calibrate, quantize, evaluate.
#include "quant_options.hpp"

#include "core/eval/model_eval.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"

#include <memory>

namespace qs::cli {

struct QuantSession {
    model::Model model;
    std::shared_ptr<compute::Backend> backend;
    calib::CalibrationSet calibration;
    eval::ReferenceWindows reference;
};

// Opens the model, picks the backend, tokenizes and samples the calibration set and computes
// the original model's logits on the evaluation windows (once, for every method).
QuantSession prepareSession(const QuantRunOptions& o);

struct MethodOutcome {
    quant::QuantizationRun run;
    eval::ModelEvaluation eval;
};

MethodOutcome runMethod(QuantSession& s, const QuantRunOptions& o, const quant::QuantConfig& config);

// Progress on stderr ("\r" updates), silent with --json.
jobs::Progress consoleProgress(bool quiet);

} // namespace qs::cli
