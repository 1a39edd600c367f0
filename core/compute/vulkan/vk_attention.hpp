#pragma once
// Internal to core/compute/vulkan: causal attention (shaders/attention.comp) for
// VulkanBackend::attention, with its own device buffers for q, k, v and the output.
#include "core/compute/backend.hpp"
#include "core/compute/vulkan/vk_context.hpp"
#include "core/compute/vulkan/vk_kernels.hpp"

#include <set>
#include <string>

namespace qs::compute::vk {

// Head dims the kernel takes: multiples of 16 up to this.
constexpr int kAttentionMaxHeadDim = 128;

class AttentionRunner {
public:
    AttentionRunner(Device& dev, Kernels& kernels) : dev_(dev), kernels_(kernels) {}
    ~AttentionRunner();
    AttentionRunner(const AttentionRunner&) = delete;
    AttentionRunner& operator=(const AttentionRunner&) = delete;

    // Runs s on the device (arguments already checked): true with *ms the kernels' GPU time;
    // false, computing nothing, with *whyNot where the shape or the device's limits rule it out.
    // Throws VkError when Vulkan fails.
    bool run(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
             std::uint64_t maxBinding, double* ms, std::string* whyNot);
    // Keys per shared-memory tile for this head dim on this device; 0 when none fits.
    std::uint32_t keysPerTile(int headDim) const;
    // Logs why attention left the GPU, once per distinct reason.
    void logFallback(const std::string& why);

private:
    Device& dev_;
    Kernels& kernels_;
    Buffer q_, k_, v_, o_;
    std::set<std::string> logged_;
};

} // namespace qs::compute::vk
