#pragma once
// AWQ's per-input-channel scales (llm-awq auto_scale.py, AutoAWQ quantizer._search_best_scale):
// salient input channels (large mean |x|) are scaled up before quantization, so their weights
// lose less to rounding, and the inverse scale is folded into the op that produces the input.
#include "core/quant/groupwise.hpp"
#include "core/runtime/llama_weights.hpp"

#include <optional>
#include <vector>

namespace qs::quant {

// AutoAWQ's w_mean: |W| divided by the absmax of its group (groupSize input columns of a row),
// averaged over the rows of all the given linears, per input channel.
runtime::Vec awqWeightMean(const std::vector<const runtime::Mat*>& weights, int groupSize);

// The scales for one ratio r of the grid:
//   duo (AutoAWQ, default): s = max(x_mean^r / (w_mean^(1-r) + 1e-4), 1e-4)
//   x-only (llm-awq):       s = max(x_mean^r, 1e-4)
// then s / sqrt(max(s) * min(s)); non-finite entries become 1.
runtime::Vec awqScalesForRatio(const runtime::Vec& xMean, const runtime::Vec& wMean, float ratio, bool xOnly);

// Q(W diag(s)) diag(1/s): group-wise RTN of the scaled weight, divided back. What the f32
// reference search runs the module with for one candidate. Rows split over the thread pool.
runtime::Mat fakeQuantizeScaled(const runtime::Mat& w, const runtime::Vec& s, const GroupGrid& grid, int groupSize);

// diag(1/out) W diag(in), rows split over the thread pool.
runtime::Mat scaleForAwq(const runtime::Mat& w, const runtime::Vec& in, const runtime::Vec& out);

// The four Llama scaling groups of a block; an absent one is left unscaled.
struct AwqBlockScales {
    std::optional<runtime::Vec> qkv;    // input_layernorm -> q, k, v
    std::optional<runtime::Vec> vo;     // v (rows, bias) -> o; only without GQA
    std::optional<runtime::Vec> gateUp; // post_attention_layernorm -> gate, up
    std::optional<runtime::Vec> down;   // up (rows, bias) -> down
};

// Folds the scales into the block (AutoAWQ's apply_scale: scale_ln_fcs / scale_fc_fc): the
// previous op divided by s (norm weight, or the rows and bias of v / up), the next linears'
// columns multiplied by s. The block's f32 function is unchanged. Scaled linears become dense
// f32 ones.
void applyAwqScales(runtime::BlockWeights& block, const AwqBlockScales& scales);

// Only the norm part of applyAwqScales: input_layernorm / s_qkv, post_attention_layernorm /
// s_gateUp (for a caller that scales and replaces the linears itself).
void applyAwqNormScales(runtime::BlockWeights& block, const AwqBlockScales& scales);

// The product of the input scalings a linear's columns received (1 where none), and the factor
// its rows were divided by: W_scaled = diag(1/out) W diag(in).
runtime::Vec awqInputScale(const AwqBlockScales& scales, runtime::LinearRole role, int inFeatures);
runtime::Vec awqOutputScale(const AwqBlockScales& scales, runtime::LinearRole role, int outFeatures);

} // namespace qs::quant
