#pragma once
// AWQ's clip search (llm-awq auto_clip.py, AutoAWQ _compute_best_clip): for every output channel
// and group, shrink the range max|w| by 1 - i/grid for i < maxShrink * grid, clamp the group to
// [-max, max], quantize it, and keep the max whose partial output sum_{j in group} x_j w_j
// changes least (mean squared over the sampled tokens).
//
// The error of one candidate, mean_t (sum_{c in g} x_tc (w_nc - q_nc))^2, is the quadratic form
// d^T (X_g^T X_g / T) d with d = w_n,g - q_n,g and X_g^T X_g the group's gs x gs diagonal block of
// the tokens' Gram matrix. The search evaluates it that way (Backend::awqClipErrors: the
// Vulkan kernel on a GPU backend, else the CPU twin, one rows x gs times gs x gs product per
// group and shrink, rows split over the thread pool): gs / T of the direct form's work (128 / 512
// with AutoAWQ's defaults). The direct form (the two T x N outputs compared) is kept as the
// reference. The GPU's f32 sums differ from the CPU's in the last bits, so where two shrinks'
// errors nearly tie the pick may differ (tests/compute_vulkan/test_awq_clip.cpp measures how often).
#include "core/compute/backend.hpp"
#include "core/quant/groupwise.hpp"

#include <Eigen/Core>

#include <vector>

namespace qs::quant {

enum class AwqClipForm {
    Gram,   // d^T G_g d per row and group (the search's default)
    Direct  // x_g (w - q)^T over the tokens, as AutoAWQ writes it (reference)
};

// The error of every candidate: errors[i](row, group) for shrink 1 - i / gridPoints.
struct AwqClipCandidates {
    std::vector<Eigen::MatrixXd> errors; // [steps] of [N][groups]
    runtime::Mat orgMax;                 // [N][groups]: max |w| of each group
    std::vector<float> shrinks;          // [steps]
};

// w: [N][K] (already scaled), x: [T][K] its inputs (scaled the same way), T > 0. backend: the
// Gram form runs there when it is a GPU (the CPU twin otherwise or when null).
AwqClipCandidates awqClipCandidateErrors(const runtime::Mat& w, const runtime::Mat& x, const GroupGrid& grid,
                                         int groupSize, int gridPoints = 20, float maxShrink = 0.5f,
                                         AwqClipForm form = AwqClipForm::Gram, compute::Backend* backend = nullptr);

struct AwqClipResult {
    runtime::Mat maxVal;       // [N][groups]: the chosen clamp of each group
    double meanShrink = 1;     // mean of chosen max / original max
    double minShrink = 1;
    double fractionClipped = 0; // groups with shrink < 1
    double errorUnclipped = 0;  // summed per-group output MSE at shrink 1 (plain RTN)
    double errorClipped = 0;    // the same with the chosen clamps
};

// The lowest-error candidate of every row and group (the first of equal errors, as AutoAWQ's
// strict comparison).
AwqClipResult searchAwqClip(const runtime::Mat& w, const runtime::Mat& x, const GroupGrid& grid, int groupSize,
                            int gridPoints = 20, float maxShrink = 0.5f, AwqClipForm form = AwqClipForm::Gram,
                            compute::Backend* backend = nullptr);

// Clamps each group of w to [-maxVal, maxVal] (AutoAWQ's apply_clip), rows split over the pool.
void applyAwqClip(runtime::Mat& w, const runtime::Mat& maxVal, int groupSize);

} // namespace qs::quant
