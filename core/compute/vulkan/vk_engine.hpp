#pragma once
// Internal: the instance, device and kernels one VulkanBackend runs on, shared with whatever it
// hands out that holds device memory (prepared weights, f32 matrices), so that these may die
// after the backend.
#include "core/compute/vulkan/vk_context.hpp"
#include "core/compute/vulkan/vk_kernels.hpp"

#include <memory>

namespace qs::compute::vk {

// Declared in this order so that members die kernels -> device -> instance.
struct Engine {
    std::unique_ptr<Instance> instance;
    std::unique_ptr<Device> device;
    std::unique_ptr<Kernels> kernels;
    ~Engine()
    {
        kernels.reset();
        device.reset();
    }
};

} // namespace qs::compute::vk
