#include "core/quant/linear_loop.hpp"

#include "core/quant/layer_metrics.hpp"

#include <chrono>

namespace qs::quant {

void quantizeEachLinear(runtime::BlockWeights& weights, int block, std::vector<LayerReport>& reports,
                        const QuantizeLinear& quantize)
{
    for (auto role : runtime::kAllLinearRoles) {
        const auto t0 = std::chrono::steady_clock::now();
        auto& slot = weights.linear(role);
        LayerReport r;
        r.name = linearName(block, role);
        r.block = block;
        r.role = role;
        auto op = quantize(role, currentWeight(*slot), currentBias(*slot), r);
        slot = std::move(op);
        r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        reports.push_back(std::move(r));
    }
}

} // namespace qs::quant
