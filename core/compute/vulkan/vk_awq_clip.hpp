#pragma once
// Internal to core/compute/vulkan: AWQ's clip-search errors (shaders/awq_clip.comp) for
// VulkanBackend::awqClipErrors, with its own device buffers.
#include "core/compute/backend.hpp"
#include "core/compute/vulkan/vk_context.hpp"
#include "core/compute/vulkan/vk_kernels.hpp"

#include <set>
#include <string>

namespace qs::compute::vk {

// Group sizes the kernel takes: multiples of 32 up to this.
constexpr int kAwqClipMaxGroup = 128;

class AwqClipRunner {
public:
    AwqClipRunner(Device& dev, Kernels& kernels) : dev_(dev), kernels_(kernels) {}
    ~AwqClipRunner();
    AwqClipRunner(const AwqClipRunner&) = delete;
    AwqClipRunner& operator=(const AwqClipRunner&) = delete;

    // Runs p on the device (arguments already checked): true with *ms the kernels' GPU time;
    // false, computing nothing, with *whyNot where the shape or the device rules it out. Throws
    // VkError when Vulkan fails.
    bool run(const AwqClipProblem& p, float* errors, float* orgMax, std::uint64_t maxBinding, double* ms,
             std::string* whyNot);
    // Weight rows per workgroup for this group size on this device (64, 32 or 16); 0: none fits.
    std::uint32_t rowsPerWorkgroup(int groupSize) const;
    // Logs why the clip search left the GPU, once per distinct reason.
    void logFallback(const std::string& why);
    // Tests: ulps added to the device's quotients before the kernel settles them exactly.
    void setQuotientSkew(int ulps) { skew_ = ulps; }

private:
    Device& dev_;
    Kernels& kernels_;
    Buffer w_, gram_, shrinks_, errors_, orgMax_;
    std::set<std::string> logged_;
    int skew_ = 0;
};

} // namespace qs::compute::vk
