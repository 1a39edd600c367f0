#pragma once
// Internal: compute pipelines built from the embedded SPIR-V, one shared layout (six storage
// buffers + 32 bytes of push constants), descriptor sets from a pool reset per submission.
#include "core/compute/vulkan/vk_context.hpp"

#include <array>
#include <map>
#include <string>
#include <utility>

namespace qs::compute::vk {

enum class KernelId {
    DqHalf, DqInt8, DqIntG, DqNf4, DqQ8_0, DqQ4_0, DqQ4_1, DqQ4_K, DqQ6_K,
    W8a8, Hessian, ChanStats, Histogram, Copy,
    GemvInt4, GemvInt8, GemvHalf,  // decode GEMV (gemv.comp)
    GemvInt4F16,                   // its int4 variant with packed f16 math (needs shaderFloat16)
    GemvMma, GemvXprep,            // 4-bit GEMV on the tensor cores and its X pre-pass
    ToHalf, HessianF16,            // f32 -> f16; X^T X from f16 X on the tensor cores
    Attention,                     // causal GQA attention, online softmax (attention.comp)
    GemmF32,                       // C = A B or A B^T in f32 (gemm_f32.comp)
    // Cooperative-matrix twins of the Dq* kernels and of Hessian (NVIDIA only).
    CmHalf, CmInt8, CmIntG, CmNf4, CmQ8_0, CmQ4_0, CmQ4_1, CmQ4_K, CmQ6_K, HessianCm,
    MmaPeak,  // the tensor cores' ceiling (mma_peak.comp), NVIDIA only
    CmwHalf, CmwInt8, CmwIntG,  // cooperative-matrix GEMMs with 64 x 64 per subgroup (QS_COOPMAT_WIDE)
    AwqClip,                    // AWQ clip-search errors (awq_clip.comp), needs shaderFloat64
    CmbHalf, CmbInt8, CmbIntG,  // cooperative-matrix GEMMs with 128 x 256 tiles (QS_COOPMAT_BIG)
    MmaSharedPeak,              // the tensor cores fed from shared memory (mma_shared_peak.comp)
    CmpHalf, CmpInt8, CmpIntG,  // cooperative-matrix GEMMs, software-pipelined (QS_COOPMAT_PIPE)
    CmsHalf, CmsInt8, CmsIntG,  // cooperative-matrix GEMMs with 64 x 128 tiles (QS_COOPMAT_SPLIT)
    GemvInt4F16X,               // GemvInt4F16 reading X converted to f16 pairs once (X_F16)
    CmW8a8, CmbW8a8,            // W8A8 on the int8 tensor cores: 128 x 128 and 128 x 256 tiles
    MmaPeakInt8,                // the int8 tensor cores' ceiling (mma_peak.comp QS_INT8)
    CmwW8a8,                    // W8A8 on the int8 tensor cores: 128 x 128 tiles of 4 subgroups
    GemvNf4,                    // decode GEMV for NF4 (gemv.comp FMT_NF4)
    GemvQ4K,                    // decode GEMV for GGUF Q4_K (gemv.comp FMT_Q4K)
    GemvW8a8                    // w8a8Gemm's decode GEMV (gemv.comp FMT_W8A8)
};
const char* kernelName(KernelId id);
// The cooperative-matrix GEMM for a Dq* kernel in the given layout where the format has one
// (Wide and Big: f16/bf16, int8, 2-4-bit group-wise), else in the default layout.
KernelId coopTwin(KernelId dq, CoopLayout layout = CoopLayout::Default);
CoopLayout coopLayoutOf(KernelId cm);  // the layout a cooperative-matrix GEMM kernel was built for
bool isCoopGemm(KernelId id);

// Specialization constants 0..5 (kernels without them ignore the values).
using Spec = std::array<std::uint32_t, 6>;

// A bound range of a buffer; buffer == nullptr binds the dummy buffer.
struct Binding {
    const Buffer* buffer = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t range = 0;  // 0: to the end of the buffer
};
constexpr int kBindings = 6;
constexpr std::uint32_t kPushBytes = 48;

class Kernels {
public:
    explicit Kernels(Device& dev);
    ~Kernels();
    Kernels(const Kernels&) = delete;
    Kernels& operator=(const Kernels&) = delete;

    // Records a dispatch. spec: specialization constants (ignored by kernels with fixed sizes).
    // push: up to kPushBytes.
    void dispatch(VkCommandBuffer cb, KernelId id, const Spec& spec, const std::array<Binding, kBindings>& bindings,
                  const void* push, std::uint32_t pushBytes, std::uint32_t groupsX, std::uint32_t groupsY);
    // Call before recording a new submission: recycles descriptor sets.
    void resetDescriptors();

private:
    VkPipeline pipeline(KernelId id, Spec spec);
    void logPipelineStatistics(KernelId id, const Spec& spec, VkPipeline p) const;
    void loadPipelineCache();
    void savePipelineCache();

    Device& dev_;
    VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
    std::uint32_t setsUsed_ = 0;
    Buffer dummy_;
    std::map<KernelId, VkShaderModule> modules_;
    std::map<std::pair<KernelId, Spec>, VkPipeline> pipelines_;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::string cachePath_;  // empty: no on-disk cache
};

constexpr std::uint32_t kMaxSetsPerSubmission = 1024;

} // namespace qs::compute::vk
