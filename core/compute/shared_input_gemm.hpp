#pragma once
// Products of one input with several weights (a block's q/k/v, gate/up): y_i = x dequant(W_i)^T.
// On Vulkan x is uploaded once for all of them; elsewhere one dequantGemm each.
#include "core/compute/backend.hpp"

#include <span>

namespace qs::compute {

// Every W_i prepared by backend, with x's K columns; ys[i] holds M x rows(W_i) floats.
void dequantGemmSharedInput(Backend& backend, const float* x, int m, std::span<const PreparedWeights* const> ws,
                            std::span<float* const> ys);

} // namespace qs::compute
