#include "core/compute/shared_input_gemm.hpp"

#include "core/compute/vulkan/vulkan_backend.hpp"

#include <string>

namespace qs::compute {

void dequantGemmSharedInput(Backend& backend, const float* x, int m, std::span<const PreparedWeights* const> ws,
                            std::span<float* const> ys)
{
    if (ws.size() != ys.size())
        throw ComputeError("dequantGemmSharedInput: " + std::to_string(ws.size()) + " weights for " +
                           std::to_string(ys.size()) + " outputs");
    if (auto* vulkan = dynamic_cast<VulkanBackend*>(&backend)) {
        vulkan->dequantGemmShared(x, m, ws, ys);
        return;
    }
    for (std::size_t i = 0; i < ws.size(); ++i) {
        if (!ws[i])
            throw ComputeError("dequantGemmSharedInput: null weights");
        backend.dequantGemm(x, m, *ws[i], ys[i]);
    }
}

} // namespace qs::compute
