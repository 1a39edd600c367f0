#pragma once
// The host's causal attention (the CPU backend's, and the forward pass's where no GPU runs it).
#include "core/compute/backend.hpp"

namespace qs::compute {

// Arrays as in Backend::attention; the shape is not checked here (checkAttentionArgs).
void causalAttention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out);

} // namespace qs::compute
