#pragma once
// Worker side of the activation inspector: the calibration run that builds the activation
// profile, and the per-linear work (reading its weight, the alpha sweep, the int8 errors at one
// alpha). Plain functions run through a JobRunner; nothing here touches a widget.
#include "core/analysis/smoothing_preview.hpp"
#include "core/model/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace qs::ui {

struct ActivationRunSettings {
    std::string preset = "quick"; // calib::calibrationPresets()
    int sampleRows = 64;          // raw input rows kept per site for the int8 errors
    std::uint64_t seed = 0;
};

struct ActivationRun {
    ActivationRunSettings settings;
    analysis::ActivationProfile profile;
    std::vector<std::string> tensorNames; // checkpoint name of each profile linear's weight
    double seconds = 0;
};

// Calibrates on the demo model's calibration.txt (as the compare run does) through the
// unquantized model. Throws qs::Error (no tokenizer, unsupported architecture) or Cancelled.
std::shared_ptr<const ActivationRun> runActivationProfile(const model::Model& model,
                                                          const ActivationRunSettings& settings,
                                                          jobs::Progress& progress);

// One linear's weight and its errors over alpha (0, 0.05, ..., 1) plus at `alpha`.
struct LinearSmoothing {
    int linear = -1; // index into the profile's linears
    std::shared_ptr<const runtime::Mat> weight;
    std::vector<analysis::SmoothedInt8Error> sweep;
    analysis::SmoothedInt8Error atAlpha;
};
constexpr int kAlphaSweepSteps = 20;

std::shared_ptr<const LinearSmoothing> analyzeLinearSmoothing(const model::Model& model,
                                                              std::shared_ptr<const ActivationRun> run, int linear,
                                                              float alpha, jobs::Progress& progress);

// The errors at one alpha for a weight already read (the slider's job).
analysis::SmoothedInt8Error int8ErrorAtAlpha(const ActivationRun& run, int linear, const runtime::Mat& weight,
                                             float alpha);

} // namespace qs::ui
