#pragma once
// Absmax INT8 (LLM.int8()'s vector-wise weight quantization): scale = max|w| / 127 per output
// channel, or one for the whole matrix; codes round(w / scale) (half to even) in [-127, 127].
#include "core/compute/weight_formats.hpp"
#include "core/runtime/matrix.hpp"

namespace qs::quant {

// An all-zero row (or matrix) gets scale 1 and codes 0: it dequantizes to 0 without dividing
// by zero.
compute::Int8PerChannel quantizeAbsmaxInt8(const runtime::Mat& w, bool perTensor);

} // namespace qs::quant
