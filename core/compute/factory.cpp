#include "core/compute/backend.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <spdlog/spdlog.h>

namespace qs::compute {

std::unique_ptr<Backend> makeBackend(bool preferGpu)
{
    if (preferGpu) {
        std::string why;
        if (auto vk = makeVulkanBackend(&why))
            return vk;
        spdlog::warn("compute: using the CPU backend: {}", why);
    }
    return makeCpuBackend();
}

} // namespace qs::compute
