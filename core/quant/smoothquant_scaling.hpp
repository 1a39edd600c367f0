#pragma once
// SmoothQuant's smoothing (smoothquant/smooth.py, smooth_ln_fcs for Llama-like blocks): move the
// activation outliers of a norm's output into the weights of the linears it feeds,
//   s_j = max|X_j|^alpha / max|W_:,j|^(1-alpha),
// with max|W_:,j| taken over the rows of every linear sharing the input (clamped to >= 1e-5)
// and s clamped to >= 1e-5, as the reference does. The norm's weight is divided by s and the
// linears' columns multiplied by s, so the f32 function of the block is unchanged:
// input_layernorm -> q,k,v and post_attention_layernorm -> gate,up; o and down keep their
// inputs (no norm precedes them).
#include "core/calib/block_capture.hpp"
#include "core/runtime/llama_weights.hpp"

#include <vector>

namespace qs::quant {

runtime::Vec smoothingScales(const runtime::Vec& activationAbsmax, const std::vector<const runtime::Mat*>& weights,
                             float alpha);
// The same s from max|W_:,j| already taken over the linears (O(channels): the GUI's alpha
// slider recomputes it live). Sizes must agree.
runtime::Vec smoothingScalesFromAbsmax(const runtime::Vec& activationAbsmax, const runtime::Vec& weightAbsmax,
                                       float alpha);
// max|W_:,j| over the rows of every matrix (sizes must agree with `channels`).
runtime::Vec weightColumnAbsmax(const std::vector<const runtime::Mat*>& weights, Eigen::Index channels);

struct SmoothingScales {
    runtime::Vec attention; // input_layernorm -> q, k, v
    runtime::Vec mlp;       // post_attention_layernorm -> gate, up
};

// From the calibration absmax of the block's original inputs (sites Attention and Mlp) and the
// block's current weights.
SmoothingScales computeSmoothingScales(const runtime::BlockWeights& block, const calib::BlockCalibration& cal,
                                       float alpha);

// Folds s into the block: norms divided by s, the columns of q,k,v (gate,up) multiplied by s.
// The linears become dense f32 ones holding the smoothed weights.
void applySmoothing(runtime::BlockWeights& block, const SmoothingScales& scales);

} // namespace qs::quant
