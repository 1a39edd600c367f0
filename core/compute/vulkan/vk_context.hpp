#pragma once
// Internal to core/compute/vulkan: the loader's function table, one device with its queue, and
// buffers. Vulkan's C API with VK_NO_PROTOTYPES: every entry point comes from the loader we
// dlopen, so nothing links against libvulkan.
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "core/compute/vulkan/vulkan_backend.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qs::compute::vk {

// Any Vulkan failure (out of memory, device lost, ...); the backend catches it and falls back.
class VkError : public std::runtime_error {
public:
    VkError(const std::string& what, VkResult r) : std::runtime_error(what), result(r) {}
    VkResult result;
};
void check(VkResult r, const char* what);

#define QS_VK_INSTANCE_FUNCS(X)                                                                                      \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)                              \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2) X(vkGetPhysicalDeviceMemoryProperties)          \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkEnumerateDeviceExtensionProperties) X(vkCreateDevice)             \
    X(vkGetDeviceProcAddr)

#define QS_VK_DEVICE_FUNCS(X)                                                                                        \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)      \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory)                        \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)  \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline)            \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) X(vkAllocateDescriptorSets)        \
    X(vkUpdateDescriptorSets) X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers)             \
    X(vkBeginCommandBuffer) X(vkEndCommandBuffer) X(vkResetCommandBuffer) X(vkCmdBindPipeline)                       \
    X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer)     \
    X(vkCmdFillBuffer) X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) X(vkCreateQueryPool) X(vkDestroyQueryPool)      \
    X(vkGetQueryPoolResults) X(vkCreateFence) X(vkDestroyFence) X(vkResetFences) X(vkWaitForFences)                  \
    X(vkQueueSubmit) X(vkDeviceWaitIdle) X(vkCreatePipelineCache) X(vkDestroyPipelineCache)               \
    X(vkGetPipelineCacheData)

struct Functions {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
    PFN_vkCreateInstance vkCreateInstance = nullptr;
    PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV vkGetPhysicalDeviceCooperativeMatrixPropertiesNV = nullptr;
    PFN_vkGetPipelineExecutablePropertiesKHR vkGetPipelineExecutablePropertiesKHR = nullptr;  // QS_PIPELINE_STATS only
    PFN_vkGetPipelineExecutableStatisticsKHR vkGetPipelineExecutableStatisticsKHR = nullptr;
#define QS_DECLARE(name) PFN_##name name = nullptr;
    QS_VK_INSTANCE_FUNCS(QS_DECLARE)
    QS_VK_DEVICE_FUNCS(QS_DECLARE)
#undef QS_DECLARE
};

// The loader and an instance; shared by device listing and the backend.
class Instance {
public:
    Instance();  // throws VkError / std::runtime_error with the reason
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;
    Functions fn;
    VkInstance instance = VK_NULL_HANDLE;
    std::vector<VkPhysicalDevice> physicalDevices;
    VulkanDeviceInfo describe(int index) const;
    int computeQueueFamily(VkPhysicalDevice pd) const;  // -1 when none

private:
    void* library_ = nullptr;
};

// Picks the device index by QS_VULKAN_DEVICE or by type; -1 and *why when none is usable.
int chooseDevice(const std::vector<VulkanDeviceInfo>& devices, std::string* why);

struct Buffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    std::uint64_t size = 0;
    void* mapped = nullptr;  // host-visible memory stays mapped
};

// One logical device, its queue, a command buffer with a fence, and timestamp queries.
class Device {
public:
    Device(Instance& inst, int index);  // throws VkError
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    Instance& inst;
    const Functions& fn;
    VulkanDeviceInfo info;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkDevice device = VK_NULL_HANDLE;
    VkQueue queue = VK_NULL_HANDLE;
    bool timestamps = false;
    // Features enabled at creation: GL_NV_cooperative_matrix with 16x16x16 f16*f16+f32 on
    // subgroups of 32 (the cm_* shaders), and subgroup arithmetic in compute (gemv.comp).
    bool coopMatrixF16 = false;
    bool coopMatrixInt8 = false;  // and 16x16x32 s8*s8+s32 with shaderInt8 (the cm*_w8a8 shaders)
    bool subgroupArithmetic = false;
    bool shaderFloat64 = false;  // enabled at creation where the device has it
    bool pipelineStats = false;  // QS_PIPELINE_STATS set and VK_KHR_pipeline_executable_properties enabled
    bool forceStaging = false;  // tests: use the staging path even for host-visible buffers

    // Device-local storage buffer (host-visible and mapped when the device is not discrete).
    Buffer createDeviceBuffer(std::uint64_t bytes);
    void destroy(Buffer& b);
    // Grows b to at least `bytes` (contents are lost).
    void ensure(Buffer& b, std::uint64_t bytes);
    void upload(Buffer& dst, std::uint64_t dstOffset, const void* src, std::uint64_t bytes);
    void download(Buffer& src, std::uint64_t srcOffset, void* dst, std::uint64_t bytes);

    // Strided blocks: `rows` rows of rowBytes each, row r at dstOffset + r * dstStride on the
    // device and at src + r * srcStride on the host (and the reverse): one copy with a region
    // per row for each staging buffer's worth.
    void uploadRows(Buffer& dst, std::uint64_t dstOffset, std::uint64_t dstStride, const void* src,
                    std::uint64_t srcStride, std::uint64_t rowBytes, std::uint64_t rows);
    void downloadRows(Buffer& src, std::uint64_t srcOffset, std::uint64_t srcStride, void* dst, std::uint64_t dstStride,
                      std::uint64_t rowBytes, std::uint64_t rows);

    // Transfers inside a caller's submission (one round trip for upload + work + download):
    // stageIn copies host bytes into the staging buffer at stagingOffset now and records the
    // copy to dst; stageOut records the copy of src into the staging buffer, and readStaged
    // reads it after the submission has finished. Both need needsStaging(dst/src) and
    // stagingOffset + bytes <= kStagingBytes; each records the barrier it needs.
    // 256 MiB of host memory (allocated on first use, only where staging is needed): a batch
    // of 4096 calibration rows at the 7B width moves 64-180 MB each way per product.
    static constexpr std::uint64_t kStagingBytes = 256ull << 20;
    bool needsStaging(const Buffer& b) const { return !b.mapped || forceStaging; }
    void stageIn(VkCommandBuffer cb, Buffer& dst, std::uint64_t dstOffset, const void* src, std::uint64_t bytes,
                 std::uint64_t stagingOffset);
    void stageOut(VkCommandBuffer cb, Buffer& src, std::uint64_t srcOffset, std::uint64_t bytes, std::uint64_t stagingOffset);
    void readStaged(void* dst, std::uint64_t bytes, std::uint64_t stagingOffset);

    // Command recording for one synchronous submission.
    VkCommandBuffer begin();
    void timestamp(VkCommandBuffer cb, std::uint32_t slot);  // slot 0 = start, 1 = end
    void computeBarrier(VkCommandBuffer cb);
    // Submits, waits, and returns the time between the two timestamps in ms (or wall time).
    double submitAndWait(VkCommandBuffer cb);

private:
    Buffer createBuffer(std::uint64_t bytes, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred);
    std::uint32_t findMemoryType(std::uint32_t typeBits, VkMemoryPropertyFlags required,
                                 VkMemoryPropertyFlags preferred) const;
    void staged(Buffer& dev, std::uint64_t offset, void* host, std::uint64_t bytes, bool toDevice);
    void stagedRows(Buffer& dev, std::uint64_t offset, std::uint64_t devStride, std::uint8_t* host,
                    std::uint64_t hostStride, std::uint64_t rowBytes, std::uint64_t rows, bool toDevice);
    void ensureStaging();

    VkPhysicalDeviceMemoryProperties memProps_{};
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    Buffer staging_;
    std::uint32_t queueFamily_ = 0;
    // Timestamps written since begin(): results are read only when both were (waiting on a
    // query that was reset but never written hangs on NVIDIA).
    std::uint32_t written_ = 0;
};

} // namespace qs::compute::vk
