#pragma once
// AWQ's clip search (llm-awq auto_clip.py, AutoAWQ _compute_best_clip): for every output channel
// and group, shrink the range max|w| by 1 - i/grid for i < maxShrink * grid, clamp the group to
// [-max, max], quantize it, and keep the max whose partial output sum_{j in group} x_j w_j
// changes least (mean squared over the sampled tokens).
#include "core/quant/groupwise.hpp"

namespace qs::quant {

struct AwqClipResult {
    runtime::Mat maxVal;       // [N][groups]: the chosen clamp of each group
    double meanShrink = 1;     // mean of chosen max / original max
    double minShrink = 1;
    double fractionClipped = 0; // groups with shrink < 1
    double errorUnclipped = 0;  // summed per-group output MSE at shrink 1 (plain RTN)
    double errorClipped = 0;    // the same with the chosen clamps
};

// w: [N][K] (already scaled), x: [T][K] its inputs (scaled the same way), T > 0.
AwqClipResult searchAwqClip(const runtime::Mat& w, const runtime::Mat& x, const GroupGrid& grid, int groupSize,
                            int gridPoints = 20, float maxShrink = 0.5f);

// Clamps each group of w to [-maxVal, maxVal] (AutoAWQ's apply_clip).
void applyAwqClip(runtime::Mat& w, const runtime::Mat& maxVal, int groupSize);

} // namespace qs::quant
