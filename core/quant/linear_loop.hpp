#pragma once
// The loop every method without a cross-linear order runs over a block: for each of the seven
// linears in role order, read the weight it computes with now, quantize it, swap the slot for
// the quantized op and report, timed.
#include "core/quant/method.hpp"

#include <functional>

namespace qs::quant {

// Gets the linear's role, its current f32 weight [out][in] and bias, and a report whose name,
// block and role are filled (seconds may hold time spent elsewhere for it: the loop adds its
// own); returns the op that replaces the linear.
using QuantizeLinear = std::function<std::shared_ptr<runtime::LinearOp>(
    runtime::LinearRole role, const runtime::Mat& weight, const std::optional<runtime::Vec>& bias, LayerReport& report)>;

void quantizeEachLinear(runtime::BlockWeights& weights, int block, std::vector<LayerReport>& reports,
                        const QuantizeLinear& quantize);

} // namespace qs::quant
