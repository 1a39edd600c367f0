#pragma once
// SmoothQuant's migration of range from activations into weights, for one linear and one alpha:
// s_j = max|X_j|^alpha / max|W_:,j|^(1-alpha) (quant::smoothingScalesFromAbsmax, the method's
// own math), the activation absmax divided by s and the weight column absmax multiplied by s.
// previewSmoothing is O(channels) (cheap enough to follow a slider); the int8 errors need the
// weight and input rows (O(rows x N x K)) and belong on a worker.
#include "core/analysis/activation_profile.hpp"

#include <vector>

namespace qs::analysis {

struct SmoothingPreview {
    float alpha = 0.5f;
    runtime::Vec scales;           // s_j
    runtime::Vec activationAbsmax; // max|X_j| / s_j
    runtime::Vec weightAbsmax;     // max|W_:,j| * s_j of the linear itself
    // How much wider the widest channel is than the median one: an int8 scale shared across
    // channels gives the median channel 127 / ratio levels.
    double activationSpread = 0, weightSpread = 0;
};

SmoothingPreview previewSmoothing(const LinearProfile& linear, const InputSiteProfile& site, float alpha);

// max / median of v (0 when the median is 0).
double spreadOf(const runtime::Vec& v);

// Relative errors (||Q(a) - a|| / ||a||) of int8 fake quantization after smoothing by s, with
// smoothquant's fake_quant.py rounding: activations X/s per token (dynamic, the method's
// default) and per tensor (static scale max_j(absmax_j / s_j) / 127), weights W diag(s) per
// output channel, and the product: X W^T against Q(X/s) Q(W s)^T with per-token activations.
struct SmoothedInt8Error {
    float alpha = 0;
    double activationPerToken = 0, activationPerTensor = 0, weight = 0, output = 0;
};
SmoothedInt8Error int8ErrorAfterSmoothing(const runtime::Mat& x, const runtime::Mat& w, const runtime::Vec& s,
                                          const runtime::Vec& activationAbsmax);

// The errors at alpha = 0, 1/steps, ..., 1 (s from the profile's absmax, as the method computes
// it). Cancellable between points through progress.
std::vector<SmoothedInt8Error> sweepAlpha(const LinearProfile& linear, const InputSiteProfile& site,
                                          const runtime::Mat& w, int steps, jobs::Progress* progress = nullptr);

} // namespace qs::analysis
