#pragma once
// Internal: compute pipelines built from the embedded SPIR-V, one shared layout (six storage
// buffers + 32 bytes of push constants), descriptor sets from a pool reset per submission.
#include "core/compute/vulkan/vk_context.hpp"

#include <array>
#include <map>
#include <tuple>

namespace qs::compute::vk {

enum class KernelId {
    DqHalf, DqInt8, DqIntG, DqNf4, DqQ8_0, DqQ4_0, DqQ4_1, DqQ4_K, DqQ6_K,
    W8a8, Hessian, ChanStats, Histogram, Copy
};

// A bound range of a buffer; buffer == nullptr binds the dummy buffer.
struct Binding {
    const Buffer* buffer = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t range = 0;  // 0: to the end of the buffer
};
constexpr int kBindings = 6;
constexpr std::uint32_t kPushBytes = 32;

class Kernels {
public:
    explicit Kernels(Device& dev);
    ~Kernels();
    Kernels(const Kernels&) = delete;
    Kernels& operator=(const Kernels&) = delete;

    // Records a dispatch. spec0/spec1: specialization constants 0 and 1 (ignored by kernels with
    // fixed sizes). push: up to kPushBytes.
    void dispatch(VkCommandBuffer cb, KernelId id, std::uint32_t spec0, std::uint32_t spec1,
                  const std::array<Binding, kBindings>& bindings, const void* push, std::uint32_t pushBytes,
                  std::uint32_t groupsX, std::uint32_t groupsY);
    // Call before recording a new submission: recycles descriptor sets.
    void resetDescriptors();

private:
    VkPipeline pipeline(KernelId id, std::uint32_t spec0, std::uint32_t spec1);

    Device& dev_;
    VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
    std::uint32_t setsUsed_ = 0;
    Buffer dummy_;
    std::map<KernelId, VkShaderModule> modules_;
    std::map<std::tuple<KernelId, std::uint32_t, std::uint32_t>, VkPipeline> pipelines_;
};

constexpr std::uint32_t kMaxSetsPerSubmission = 1024;

} // namespace qs::compute::vk
