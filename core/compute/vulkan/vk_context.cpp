#include "core/compute/vulkan/vk_context.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"
// Vulkan structs are zero-initialised with only sType named: an intended idiom.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qs::compute::vk {

void check(VkResult r, const char* what)
{
    if (r != VK_SUCCESS)
        throw VkError(std::string(what) + " failed (VkResult " + std::to_string(int(r)) + ")", r);
}

namespace {

std::string typeName(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

int typeRank(const std::string& t)
{
    if (t == "discrete") return 0;
    if (t == "integrated") return 1;
    if (t == "virtual") return 2;
    if (t == "cpu") return 3;
    return 4;
}

std::string componentName(VkComponentTypeNV t)
{
    switch (t) {
    case VK_COMPONENT_TYPE_FLOAT16_NV: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_NV: return "f32";
    case VK_COMPONENT_TYPE_SINT8_NV: return "s8";
    case VK_COMPONENT_TYPE_UINT8_NV: return "u8";
    case VK_COMPONENT_TYPE_SINT32_NV: return "s32";
    case VK_COMPONENT_TYPE_UINT32_NV: return "u32";
    default: return "t" + std::to_string(int(t));
    }
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

} // namespace

Instance::Instance()
{
    for (const char* name : {"libvulkan.so.1", "libvulkan.so"}) {
        library_ = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (library_)
            break;
    }
    if (!library_)
        throw std::runtime_error("no Vulkan loader (libvulkan.so.1 not found)");
    fn.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library_, "vkGetInstanceProcAddr"));
    if (!fn.vkGetInstanceProcAddr)
        throw std::runtime_error("Vulkan loader has no vkGetInstanceProcAddr");
    fn.vkCreateInstance = reinterpret_cast<PFN_vkCreateInstance>(fn.vkGetInstanceProcAddr(nullptr, "vkCreateInstance"));
    fn.vkEnumerateInstanceVersion =
        reinterpret_cast<PFN_vkEnumerateInstanceVersion>(fn.vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceVersion"));
    std::uint32_t version = VK_API_VERSION_1_0;
    if (fn.vkEnumerateInstanceVersion)
        fn.vkEnumerateInstanceVersion(&version);
    if (!fn.vkCreateInstance || version < VK_API_VERSION_1_2)
        throw std::runtime_error("Vulkan loader older than 1.2");

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "QuantScope";
    app.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    check(fn.vkCreateInstance(&ci, nullptr, &instance), "vkCreateInstance");
#define QS_LOAD(name)                                                                                                \
    fn.name = reinterpret_cast<PFN_##name>(fn.vkGetInstanceProcAddr(instance, #name));                                \
    if (!fn.name)                                                                                                    \
        throw std::runtime_error("Vulkan loader lacks " #name);
    QS_VK_INSTANCE_FUNCS(QS_LOAD)
#undef QS_LOAD
    fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
        fn.vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
    std::uint32_t count = 0;
    check(fn.vkEnumeratePhysicalDevices(instance, &count, nullptr), "vkEnumeratePhysicalDevices");
    physicalDevices.resize(count);
    check(fn.vkEnumeratePhysicalDevices(instance, &count, physicalDevices.data()), "vkEnumeratePhysicalDevices");
    physicalDevices.resize(count);
}

Instance::~Instance()
{
    if (instance && fn.vkDestroyInstance)
        fn.vkDestroyInstance(instance, nullptr);
    // The loader stays loaded: drivers may keep threads or atexit handlers in it.
}

int Instance::computeQueueFamily(VkPhysicalDevice pd) const
{
    std::uint32_t n = 0;
    fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
    // Prefer a compute-only family (async compute on discrete GPUs), else any with compute.
    for (std::uint32_t i = 0; i < n; ++i)
        if ((fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            return int(i);
    for (std::uint32_t i = 0; i < n; ++i)
        if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return int(i);
    return -1;
}

VulkanDeviceInfo Instance::describe(int index) const
{
    VkPhysicalDevice pd = physicalDevices.at(std::size_t(index));
    VulkanDeviceInfo d;
    d.index = index;
    VkPhysicalDeviceProperties base{};
    fn.vkGetPhysicalDeviceProperties(pd, &base);
    d.name = base.deviceName;
    d.type = typeName(base.deviceType);
    d.apiVersion = base.apiVersion;
    d.vendorId = base.vendorID;
    d.deviceId = base.deviceID;
    d.maxStorageBufferRange = base.limits.maxStorageBufferRange;
    d.maxWorkgroupInvocations = base.limits.maxComputeWorkGroupInvocations;
    d.maxSharedMemory = base.limits.maxComputeSharedMemorySize;
    d.minStorageBufferOffsetAlignment = std::uint32_t(base.limits.minStorageBufferOffsetAlignment);
    d.timestampPeriodNs = base.limits.timestampPeriod;

    std::uint32_t extCount = 0;
    fn.vkEnumerateDeviceExtensionProperties(pd, nullptr, &extCount, nullptr);
    std::vector<VkExtensionProperties> exts(extCount);
    fn.vkEnumerateDeviceExtensionProperties(pd, nullptr, &extCount, exts.data());
    bool smBuiltins = false;
    for (const auto& e : exts) {
        if (std::strcmp(e.extensionName, "VK_KHR_pipeline_executable_properties") == 0)
            d.pipelineExecutableProperties = true;
        if (std::strcmp(e.extensionName, "VK_NV_shader_sm_builtins") == 0)
            smBuiltins = true;
        if (std::strcmp(e.extensionName, "VK_NV_cooperative_matrix") == 0)
            d.nvCooperativeMatrix = true;
        if (std::strcmp(e.extensionName, "VK_KHR_cooperative_matrix") == 0)
            d.khrCooperativeMatrix = true;
    }

    if (base.apiVersion >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
        VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
        sub.pNext = &drv;
        if (smBuiltins)
            drv.pNext = &sm;  // the number of SMs (gemv.comp's rows per thread by shape)
        VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        props.pNext = &sub;
        fn.vkGetPhysicalDeviceProperties2(pd, &props);
        d.subgroupSize = sub.subgroupSize;
        d.subgroupArithmetic = (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                               (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT);
        d.driver = std::string(drv.driverName) + " " + drv.driverInfo;
        d.computeUnits = smBuiltins ? sm.shaderSMCount : 0;

        VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
        VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        f11.pNext = &f12;
        VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        feats.pNext = &f11;
        fn.vkGetPhysicalDeviceFeatures2(pd, &feats);
        d.shaderFloat16 = f12.shaderFloat16;
        d.shaderInt8 = f12.shaderInt8;
        d.storage8Bit = f12.storageBuffer8BitAccess;
        d.storage16Bit = f11.storageBuffer16BitAccess;
        d.usable = computeQueueFamily(pd) >= 0;
    }

    if (d.nvCooperativeMatrix && fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
        std::uint32_t n = 0;
        fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, nullptr);
        std::vector<VkCooperativeMatrixPropertiesNV> cm(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
        fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, cm.data());
        for (std::uint32_t i = 0; i < n; ++i)
            d.cooperativeMatrixShapes.push_back(std::to_string(cm[i].MSize) + "x" + std::to_string(cm[i].NSize) + "x" +
                                                std::to_string(cm[i].KSize) + " " + componentName(cm[i].AType) + "*" +
                                                componentName(cm[i].BType) + "+" + componentName(cm[i].CType) + "->" +
                                                componentName(cm[i].DType));
    }

    VkPhysicalDeviceMemoryProperties mem{};
    fn.vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (std::uint32_t i = 0; i < mem.memoryHeapCount; ++i)
        d.heaps.push_back({mem.memoryHeaps[i].size, bool(mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)});
    return d;
}

int chooseDevice(const std::vector<VulkanDeviceInfo>& devices, std::string* why)
{
    auto fail = [&](std::string reason) {
        if (why)
            *why = std::move(reason);
        return -1;
    };
    if (const char* env = std::getenv("QS_VULKAN_DEVICE"); env && *env) {
        const std::string want = env;
        char* end = nullptr;
        const long idx = std::strtol(env, &end, 10);
        for (const auto& d : devices) {
            const bool match = (*end == '\0') ? d.index == idx : lower(d.name).find(lower(want)) != std::string::npos;
            if (match)
                return d.usable ? d.index : fail("QS_VULKAN_DEVICE=" + want + " names " + d.name + ", which lacks Vulkan 1.2 compute");
        }
        return fail("QS_VULKAN_DEVICE=" + want + " matches no device");
    }
    int best = -1;
    for (const auto& d : devices)
        if (d.usable && (best < 0 || typeRank(d.type) < typeRank(devices[std::size_t(best)].type)))
            best = d.index;
    return best >= 0 ? best : fail(devices.empty() ? "no Vulkan device" : "no device with Vulkan 1.2 compute");
}

// ---------------------------------------------------------------------------------------------

Device::Device(Instance& in, int index) : inst(in), fn(in.fn)
{
    info = inst.describe(index);
    physical = inst.physicalDevices.at(std::size_t(index));
    queueFamily_ = std::uint32_t(inst.computeQueueFamily(physical));
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = queueFamily_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    // Enable what the kernels may use and the device has: 8/16-bit storage, f16/int8 arithmetic
    // and, on NVIDIA, cooperative matrices (only shaders that need them declare them).
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cmf{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    f11.pNext = &f12;
    if (info.nvCooperativeMatrix)
        f12.pNext = &cmf;
    VkPhysicalDeviceFeatures2 have{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    have.pNext = &f11;
    fn.vkGetPhysicalDeviceFeatures2(physical, &have);
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cmOn{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkan11Features on11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features on12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    on11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
    on12.storageBuffer8BitAccess = f12.storageBuffer8BitAccess;
    on12.shaderFloat16 = f12.shaderFloat16;
    on12.shaderInt8 = f12.shaderInt8;
    on11.pNext = &on12;
    bool hasF16Shape = false, hasInt8Shape = false;
    for (const auto& shape : info.cooperativeMatrixShapes) {
        hasF16Shape = hasF16Shape || shape == "16x16x16 f16*f16+f32->f32";
        hasInt8Shape = hasInt8Shape || shape == "16x16x32 s8*s8+s32->s32";
    }
    coopMatrixF16 = info.nvCooperativeMatrix && cmf.cooperativeMatrix && f12.shaderFloat16 && hasF16Shape &&
                    info.subgroupSize == 32 && info.maxSharedMemory >= 45056 && !std::getenv("QS_VULKAN_NO_COOPMAT");
    coopMatrixInt8 = coopMatrixF16 && hasInt8Shape && f12.shaderInt8;
    std::vector<const char*> extensions;
    if (coopMatrixF16) {
        extensions.push_back("VK_NV_cooperative_matrix");
        cmOn.cooperativeMatrix = VK_TRUE;
        on12.pNext = &cmOn;
    }
    // QS_PIPELINE_STATS=1: the driver's statistics of every pipeline (registers, shared memory,
    // spills) go to the log as it is built; a diagnostic for tuning kernels, off otherwise.
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR pexOn{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
    if (info.pipelineExecutableProperties && std::getenv("QS_PIPELINE_STATS")) {
        extensions.push_back("VK_KHR_pipeline_executable_properties");
        pexOn.pipelineExecutableInfo = VK_TRUE;
        pexOn.pNext = on12.pNext;
        on12.pNext = &pexOn;
        pipelineStats = true;
    }
    subgroupArithmetic = info.subgroupArithmetic;
    // f64 in shaders: awq_clip.comp settles its rounding with exact f64 products.
    VkPhysicalDeviceFeatures2 on{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    on.features.shaderFloat64 = have.features.shaderFloat64;
    on.pNext = &on11;
    shaderFloat64 = have.features.shaderFloat64 == VK_TRUE;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &on;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = std::uint32_t(extensions.size());
    dci.ppEnabledExtensionNames = extensions.data();
    check(fn.vkCreateDevice(physical, &dci, nullptr, &device), "vkCreateDevice");
    auto& f = const_cast<Functions&>(fn);
#define QS_LOAD(name)                                                                                                \
    f.name = reinterpret_cast<PFN_##name>(fn.vkGetDeviceProcAddr(device, #name));                                     \
    if (!f.name)                                                                                                     \
        throw VkError("device lacks " #name, VK_ERROR_INITIALIZATION_FAILED);
    QS_VK_DEVICE_FUNCS(QS_LOAD)
#undef QS_LOAD
    if (pipelineStats) {
        f.vkGetPipelineExecutablePropertiesKHR = reinterpret_cast<PFN_vkGetPipelineExecutablePropertiesKHR>(
            fn.vkGetDeviceProcAddr(device, "vkGetPipelineExecutablePropertiesKHR"));
        f.vkGetPipelineExecutableStatisticsKHR = reinterpret_cast<PFN_vkGetPipelineExecutableStatisticsKHR>(
            fn.vkGetDeviceProcAddr(device, "vkGetPipelineExecutableStatisticsKHR"));
        pipelineStats = f.vkGetPipelineExecutablePropertiesKHR && f.vkGetPipelineExecutableStatisticsKHR;
    }
    fn.vkGetDeviceQueue(device, queueFamily_, 0, &queue);
    fn.vkGetPhysicalDeviceMemoryProperties(physical, &memProps_);

    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = queueFamily_;
    check(fn.vkCreateCommandPool(device, &pci, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cai.commandPool = pool_;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    check(fn.vkAllocateCommandBuffers(device, &cai, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(fn.vkCreateFence(device, &fci, nullptr, &fence_), "vkCreateFence");

    std::uint32_t n = 0;
    fn.vkGetPhysicalDeviceQueueFamilyProperties(physical, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    fn.vkGetPhysicalDeviceQueueFamilyProperties(physical, &n, fams.data());
    timestamps = fams[queueFamily_].timestampValidBits > 0 && info.timestampPeriodNs > 0;
    if (timestamps) {
        VkQueryPoolCreateInfo qpi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qpi.queryCount = 2;
        check(fn.vkCreateQueryPool(device, &qpi, nullptr, &queries_), "vkCreateQueryPool");
    }
}

Device::~Device()
{
    if (!device)
        return;
    fn.vkDeviceWaitIdle(device);
    destroy(staging_);
    if (queries_)
        fn.vkDestroyQueryPool(device, queries_, nullptr);
    if (fence_)
        fn.vkDestroyFence(device, fence_, nullptr);
    if (pool_)
        fn.vkDestroyCommandPool(device, pool_, nullptr);
    fn.vkDestroyDevice(device, nullptr);
}

std::uint32_t Device::findMemoryType(std::uint32_t typeBits, VkMemoryPropertyFlags required,
                                     VkMemoryPropertyFlags preferred) const
{
    // Host-visible memory on a discrete GPU: system memory rather than device memory behind
    // the PCIe BAR (which the CPU reads uncached, at a few hundred MB/s), then the preferred
    // flags; the first of the best.
    const bool avoidDeviceLocal = (required & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && info.type == "discrete";
    int best = -1, bestScore = -1;
    for (std::uint32_t i = 0; i < memProps_.memoryTypeCount; ++i) {
        if (!(typeBits & (1u << i)))
            continue;
        const auto flags = memProps_.memoryTypes[i].propertyFlags;
        if ((flags & required) != required)
            continue;
        const int score = ((flags & preferred) == preferred ? 1 : 0) +
                          (avoidDeviceLocal && !(flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) ? 2 : 0);
        if (score > bestScore) {
            best = int(i);
            bestScore = score;
        }
    }
    if (best < 0)
        throw VkError("no suitable memory type", VK_ERROR_OUT_OF_DEVICE_MEMORY);
    return std::uint32_t(best);
}

Buffer Device::createBuffer(std::uint64_t bytes, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred)
{
    Buffer b;
    b.size = std::max<std::uint64_t>(16, (bytes + 15) & ~std::uint64_t(15));
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = b.size;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(fn.vkCreateBuffer(device, &bci, nullptr, &b.buffer), "vkCreateBuffer");
    try {
        VkMemoryRequirements req{};
        fn.vkGetBufferMemoryRequirements(device, b.buffer, &req);
        VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        mai.allocationSize = req.size;
        mai.memoryTypeIndex = findMemoryType(req.memoryTypeBits, required, preferred);
        check(fn.vkAllocateMemory(device, &mai, nullptr, &b.memory), "vkAllocateMemory");
        check(fn.vkBindBufferMemory(device, b.buffer, b.memory, 0), "vkBindBufferMemory");
        const auto flags = memProps_.memoryTypes[mai.memoryTypeIndex].propertyFlags;
        const bool hostCoherent = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        if (hostCoherent && (info.type != "discrete" || (required & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)))
            check(fn.vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
    } catch (...) {
        destroy(b);
        throw;
    }
    return b;
}

Buffer Device::createDeviceBuffer(std::uint64_t bytes)
{
    // On a discrete GPU device-local memory that happens to be host-visible (ReBAR) is still
    // read by the GPU at full speed, but host writes to it are slow: stage instead.
    return createBuffer(bytes, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
}

void Device::destroy(Buffer& b)
{
    if (b.mapped)
        fn.vkUnmapMemory(device, b.memory);
    if (b.buffer)
        fn.vkDestroyBuffer(device, b.buffer, nullptr);
    if (b.memory)
        fn.vkFreeMemory(device, b.memory, nullptr);
    b = Buffer{};
}

void Device::ensure(Buffer& b, std::uint64_t bytes)
{
    if (b.buffer && b.size >= bytes)
        return;
    destroy(b);
    b = createDeviceBuffer(bytes + bytes / 4);  // headroom: sizes creep up between calls
}

void Device::ensureStaging()
{
    if (staging_.buffer)
        return;
    staging_ = createBuffer(kStagingBytes, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                            VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (prof::enabled()) {
        for (std::uint32_t i = 0; i < memProps_.memoryTypeCount; ++i)
            std::fprintf(stderr, "vulkan memory type %u: flags 0x%x heap %u\n", i,
                         unsigned(memProps_.memoryTypes[i].propertyFlags), memProps_.memoryTypes[i].heapIndex);
        VkMemoryRequirements req{};
        fn.vkGetBufferMemoryRequirements(device, staging_.buffer, &req);
        std::fprintf(stderr, "vulkan staging buffer: memory type %u\n",
                     findMemoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                    VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
    }
}

namespace {

void transferBarrier(const Functions& fn, VkCommandBuffer cb, VkAccessFlags src, VkAccessFlags dst,
                     VkPipelineStageFlags srcStage, VkPipelineStageFlags dstStage)
{
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = src;
    mb.dstAccessMask = dst;
    fn.vkCmdPipelineBarrier(cb, srcStage, dstStage, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

} // namespace

void Device::stageIn(VkCommandBuffer cb, Buffer& dst, std::uint64_t dstOffset, const void* src, std::uint64_t bytes,
                     std::uint64_t stagingOffset)
{
    if (stagingOffset + bytes > kStagingBytes || dstOffset + bytes > dst.size)
        throw VkError("stageIn past the end of a buffer", VK_ERROR_UNKNOWN);
    if (bytes == 0)
        return;
    ensureStaging();
    {
        prof::StageTimer t("vk.staging.memcpy_in");
        parallelCopy(static_cast<std::uint8_t*>(staging_.mapped) + stagingOffset, src, bytes);
    }
    VkBufferCopy region{stagingOffset, dstOffset, bytes};
    fn.vkCmdCopyBuffer(cb, staging_.buffer, dst.buffer, 1, &region);
    transferBarrier(fn, cb, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                    VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
}

void Device::stageOut(VkCommandBuffer cb, Buffer& src, std::uint64_t srcOffset, std::uint64_t bytes, std::uint64_t stagingOffset)
{
    if (stagingOffset + bytes > kStagingBytes || srcOffset + bytes > src.size)
        throw VkError("stageOut past the end of a buffer", VK_ERROR_UNKNOWN);
    if (bytes == 0)
        return;
    ensureStaging();
    transferBarrier(fn, cb, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                    VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkBufferCopy region{srcOffset, stagingOffset, bytes};
    fn.vkCmdCopyBuffer(cb, src.buffer, staging_.buffer, 1, &region);
    transferBarrier(fn, cb, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_PIPELINE_STAGE_HOST_BIT);
}

void Device::readStaged(void* dst, std::uint64_t bytes, std::uint64_t stagingOffset)
{
    if (stagingOffset + bytes > kStagingBytes || (bytes && !staging_.mapped))
        throw VkError("readStaged past the end of the staging buffer", VK_ERROR_UNKNOWN);
    prof::StageTimer t("vk.staging.memcpy_out");
    parallelCopy(dst, static_cast<const std::uint8_t*>(staging_.mapped) + stagingOffset, bytes);
}

void Device::staged(Buffer& dev, std::uint64_t offset, void* host, std::uint64_t bytes, bool toDevice)
{
    constexpr std::uint64_t kStaging = kStagingBytes;
    ensureStaging();
    auto* p = static_cast<std::uint8_t*>(host);
    for (std::uint64_t done = 0; done < bytes;) {
        const std::uint64_t n = std::min(kStaging, bytes - done);
        if (toDevice) {
            prof::StageTimer t("vk.staging.memcpy_in");
            parallelCopy(staging_.mapped, p + done, n);
        }
        prof::StageTimer copyTimer("vk.staging.copy_submit");
        VkCommandBuffer cb = begin();
        VkBufferCopy region{};
        region.size = n;
        if (toDevice) {
            region.dstOffset = offset + done;
            fn.vkCmdCopyBuffer(cb, staging_.buffer, dev.buffer, 1, &region);
        } else {
            region.srcOffset = offset + done;
            fn.vkCmdCopyBuffer(cb, dev.buffer, staging_.buffer, 1, &region);
        }
        submitAndWait(cb);
        copyTimer.stop();
        if (!toDevice) {
            prof::StageTimer t("vk.staging.memcpy_out");
            parallelCopy(p + done, staging_.mapped, n);
        }
        done += n;
    }
}

void Device::stagedRows(Buffer& dev, std::uint64_t offset, std::uint64_t devStride, std::uint8_t* host,
                        std::uint64_t hostStride, std::uint64_t rowBytes, std::uint64_t rows, bool toDevice)
{
    ensureStaging();
    auto* staging = static_cast<std::uint8_t*>(staging_.mapped);
    const std::uint64_t perChunk = std::max<std::uint64_t>(1, kStagingBytes / rowBytes);
    std::vector<VkBufferCopy> regions;
    for (std::uint64_t r0 = 0; r0 < rows; r0 += perChunk) {
        const std::uint64_t n = std::min(perChunk, rows - r0);
        regions.resize(n);
        for (std::uint64_t r = 0; r < n; ++r) {
            const std::uint64_t devAt = offset + (r0 + r) * devStride;
            regions[r] = toDevice ? VkBufferCopy{r * rowBytes, devAt, rowBytes} : VkBufferCopy{devAt, r * rowBytes, rowBytes};
        }
        if (toDevice) {
            prof::StageTimer t("vk.staging.memcpy_in");
            for (std::uint64_t r = 0; r < n; ++r)
                std::memcpy(staging + r * rowBytes, host + (r0 + r) * hostStride, rowBytes);
        }
        prof::StageTimer copyTimer("vk.staging.copy_submit");
        VkCommandBuffer cb = begin();
        if (toDevice)
            fn.vkCmdCopyBuffer(cb, staging_.buffer, dev.buffer, std::uint32_t(n), regions.data());
        else
            fn.vkCmdCopyBuffer(cb, dev.buffer, staging_.buffer, std::uint32_t(n), regions.data());
        submitAndWait(cb);
        copyTimer.stop();
        if (!toDevice) {
            prof::StageTimer t("vk.staging.memcpy_out");
            for (std::uint64_t r = 0; r < n; ++r)
                std::memcpy(host + (r0 + r) * hostStride, staging + r * rowBytes, rowBytes);
        }
    }
}

void Device::uploadRows(Buffer& dst, std::uint64_t dstOffset, std::uint64_t dstStride, const void* src,
                        std::uint64_t srcStride, std::uint64_t rowBytes, std::uint64_t rows)
{
    if (rows == 0 || rowBytes == 0)
        return;
    if (rowBytes > kStagingBytes || (rowBytes > dstStride && rows > 1) ||
        dstOffset + (rows - 1) * dstStride + rowBytes > dst.size)
        throw VkError("uploadRows past the end of a buffer", VK_ERROR_UNKNOWN);
    auto* host = static_cast<std::uint8_t*>(const_cast<void*>(src));
    if (dst.mapped && !forceStaging) {
        for (std::uint64_t r = 0; r < rows; ++r)
            std::memcpy(static_cast<std::uint8_t*>(dst.mapped) + dstOffset + r * dstStride, host + r * srcStride, rowBytes);
        return;
    }
    stagedRows(dst, dstOffset, dstStride, host, srcStride, rowBytes, rows, true);
}

void Device::downloadRows(Buffer& src, std::uint64_t srcOffset, std::uint64_t srcStride, void* dst,
                          std::uint64_t dstStride, std::uint64_t rowBytes, std::uint64_t rows)
{
    if (rows == 0 || rowBytes == 0)
        return;
    if (rowBytes > kStagingBytes || (rowBytes > srcStride && rows > 1) ||
        srcOffset + (rows - 1) * srcStride + rowBytes > src.size)
        throw VkError("downloadRows past the end of a buffer", VK_ERROR_UNKNOWN);
    auto* host = static_cast<std::uint8_t*>(dst);
    if (src.mapped && !forceStaging) {
        for (std::uint64_t r = 0; r < rows; ++r)
            std::memcpy(host + r * dstStride, static_cast<const std::uint8_t*>(src.mapped) + srcOffset + r * srcStride, rowBytes);
        return;
    }
    stagedRows(src, srcOffset, srcStride, host, dstStride, rowBytes, rows, false);
}

void Device::upload(Buffer& dst, std::uint64_t dstOffset, const void* src, std::uint64_t bytes)
{
    if (bytes == 0)
        return;
    if (dstOffset + bytes > dst.size)
        throw VkError("upload past the end of a buffer", VK_ERROR_UNKNOWN);
    if (dst.mapped && !forceStaging)
        std::memcpy(static_cast<std::uint8_t*>(dst.mapped) + dstOffset, src, bytes);
    else
        staged(dst, dstOffset, const_cast<void*>(src), bytes, true);
}

void Device::download(Buffer& src, std::uint64_t srcOffset, void* dst, std::uint64_t bytes)
{
    if (bytes == 0)
        return;
    if (srcOffset + bytes > src.size)
        throw VkError("download past the end of a buffer", VK_ERROR_UNKNOWN);
    if (src.mapped && !forceStaging)
        std::memcpy(dst, static_cast<const std::uint8_t*>(src.mapped) + srcOffset, bytes);
    else
        staged(src, srcOffset, dst, bytes, false);
}

VkCommandBuffer Device::begin()
{
    check(fn.vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(fn.vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    written_ = 0;
    if (timestamps)
        fn.vkCmdResetQueryPool(cmd_, queries_, 0, 2);
    return cmd_;
}

void Device::timestamp(VkCommandBuffer cb, std::uint32_t slot)
{
    if (!timestamps)
        return;
    fn.vkCmdWriteTimestamp(cb, slot == 0 ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT : VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                           queries_, slot);
    written_ |= 1u << slot;
}

void Device::computeBarrier(VkCommandBuffer cb)
{
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
    fn.vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0,
                            nullptr);
}

double Device::submitAndWait(VkCommandBuffer cb)
{
    check(fn.vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    const auto t0 = std::chrono::steady_clock::now();
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    check(fn.vkResetFences(device, 1, &fence_), "vkResetFences");
    check(fn.vkQueueSubmit(queue, 1, &si, fence_), "vkQueueSubmit");
    check(fn.vkWaitForFences(device, 1, &fence_, VK_TRUE, 60ull * 1000 * 1000 * 1000), "vkWaitForFences");
    const double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!timestamps || written_ != 3u)
        return wallMs;
    std::uint64_t ts[2] = {0, 0};
    const VkResult r = fn.vkGetQueryPoolResults(device, queries_, 0, 2, sizeof(ts), ts, sizeof(std::uint64_t),
                                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS || ts[1] < ts[0])
        return wallMs;
    return double(ts[1] - ts[0]) * info.timestampPeriodNs * 1e-6;
}

} // namespace qs::compute::vk
