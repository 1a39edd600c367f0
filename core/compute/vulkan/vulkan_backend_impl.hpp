#pragma once
// Internal to core/compute/vulkan: the Vulkan backend's state (VulkanBackend::Impl) and its
// prepared weights, shared by vulkan_backend.cpp (weights, GEMMs, the public face) and
// vulkan_calibration.cpp (X^T X, channel statistics, histograms).
#include "core/compute/cpu/cpu_backend.hpp"
#include "core/compute/vulkan/vk_attention.hpp"
#include "core/compute/vulkan/vk_awq_clip.hpp"
#include "core/compute/vulkan/vk_context.hpp"
#include "core/compute/vulkan/vk_engine.hpp"
#include "core/compute/vulkan/vk_gemm_f32.hpp"
#include "core/compute/vulkan/vk_kernels.hpp"
#include "core/compute/vulkan/vk_sizes.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace qs::compute {

namespace vkb {

using namespace vk;


// One array of a prepared weight matrix, on the device. bytesPerRow == 0: bound whole.
struct DeviceArray {
    Buffer buf;
    int binding = 2;
    std::uint64_t bytes = 0;
    std::uint64_t bytesPerRow = 0;
};

class VulkanWeights final : public PreparedWeights {
public:
    VulkanWeights(std::shared_ptr<const WeightMatrix> w, std::shared_ptr<Engine> e)
        : PreparedWeights(std::move(w)), engine(std::move(e))
    {
    }
    ~VulkanWeights() override
    {
        for (auto& a : arrays)
            engine->device->destroy(a.buf);
    }
    std::shared_ptr<Engine> engine;
    bool onGpu = false;
    KernelId kernel = KernelId::DqHalf;
    bool hasGemv = false;  // gemv.comp handles this format (int4 without g_idx, int8, f16/bf16)
    bool hasGemvMma = false;  // gemv_mma.comp handles it (4-bit, groups a multiple of 128, no g_idx)
    KernelId gemv = KernelId::GemvHalf;
    bool gemvHalfMath = false;  // int4 with integer zeros in 0..15: gemv.comp's HALF_MATH variant can run it
    std::uint32_t bits = 0, groupSize = 0, flags = 0, rowBytes = 0;
    std::vector<DeviceArray> arrays;
};

// gemv.comp's work split: threads per workgroup, per row group (lanes), weight rows per thread.
struct GemvSplit {
    std::uint32_t workgroup = 128, lanes = 32, rows = 4;
};

struct GemmPush {
    std::uint32_t m, n, k, rowBase, bits, groupSize, flags, rowBytes, rows;
    float xScale = 1.0f;  // gemv.comp HALF_MATH: X's scale into f16 range (halfMathXScale)
};

// gemv.comp HALF_MATH: a power of two that keeps a unit's f16 sums in range: 1 where max |x| is
// in [1, 32) (or X is all zeros), else the one that brings max |x| into [16, 32); 0 where X holds
// inf or NaN (the f32 kernel runs then).
float halfMathXScale(const float* x, std::size_t count);
// to_half.comp's PAIRS output on the host: count values (a multiple of 8) times scale, in f16,
// each 8 as (x0, x4), (x1, x5), (x2, x6), (x3, x7) (gemv_x_host.cpp).
void gemvHalfPairs(const float* x, std::size_t count, float scale, std::uint16_t* out);

// Whether every |x| < 65000 (f16 holds it; NaN passes: it stays NaN); X is split over the pool
// when large. The cooperative-matrix paths convert X to f16.
bool fitsHalf(const float* x, std::size_t count);

} // namespace vkb

using namespace vk;
using namespace vkb;

struct VulkanBackend::Impl {
    std::shared_ptr<Engine> engine;
    CpuBackend cpu;
    double lastMs = 0;
    bool lastGpu = false;
    bool broken = false;
    std::uint32_t wg = 128, mt = 8;
    GemvTuning gemvTuning;
    bool coopEnabled = true;
    CoopLayout coopLayout = CoopLayout::Auto;  // the GEMM's work split (setCooperativeMatrixLayout)
    std::string lastW8a8 = "portable";
    bool lastCoopPairs = false;
    bool coopMFirst = true;    // row tiles of X fastest in the grid (setCooperativeMatrixRowTilesFirst)
    std::uint32_t coopOrder = 0;  // the inner loop's load order (setCooperativeMatrixLoadOrder)
    bool coopHalfX = true;     // cooperative-matrix GEMM reads X converted to f16 once (setCooperativeMatrixHalfX)
    bool coopHalfDequant = true;  // int4 dequantized in packed f16 against pair-ordered X (setCooperativeMatrixHalfDequant)
    bool coopHessian = false;  // split-f16 X^T X measured slower than the f32 kernel on the H100
    bool hessianF16 = false;   // X^T X from X rounded to f16 on the tensor cores (setHessianF16)
    std::uint32_t hessianF16Wn = 64;  // hessian_f16.comp: columns per subgroup (32 or 64; 64 measured best)
    int lastPath = 0;  // GemmPath of the last dequantGemm
    bool lastGemvHalf = false;  // the last dequantGemm ran gemv.comp's HALF_MATH variant
    bool timingRun = false;  // timeDequantGemm: transfers stay out of the timed submission
    // dequantGemmShared: X already in xBuf from the previous product of the same call.
    const float* residentX = nullptr;
    std::uint64_t residentXBytes = 0;
    // Within one dequantGemmShared call: xhBuf holds this X as the GEMV's host-made f16 pairs
    // with this scale (GemvTuning::halfMathXOnHost).
    const float* residentXh = nullptr;
    float residentXhScale = 0.0f;
    std::vector<std::uint16_t> hostXh;  // the pairs on their way up
    bool xOnDevice = false;             // the last gemm left X (f32) in xBuf
    // dequantGemmShared: its X, and whether it fits f16 once checked (-1: not yet).
    const float* sharedX = nullptr;
    int sharedXFitsHalf = -1;
    std::uint64_t maxBinding = 0;
    Buffer xBuf, yBuf, auxBuf;
    Buffer xhBuf;  // gemv_xprep.comp's f16 fragments of X and block sums
    Buffer x16Buf; // X in f16 (to_half.comp) for hessian_f16.comp
    std::unique_ptr<AttentionRunner> attention;  // attention.comp with its own buffers
    std::unique_ptr<AwqClipRunner> awqClip;      // awq_clip.comp with its own buffers
    std::unique_ptr<GemmF32> f32;  // f32 matrices and gemmF32 (vk_gemm_f32.cpp)

    Device& dev() { return *engine->device; }
    Kernels& kernels() { return *engine->kernels; }
    // 16 at least: gemv.comp reads weights as uvec4 from the bound offset.
    std::uint64_t align() const { return std::max<std::uint64_t>(16, engine->device->info.minStorageBufferOffsetAlignment); }

    ~Impl()
    {
        attention.reset();
        awqClip.reset();
        f32.reset();
        if (engine && engine->device) {
            engine->device->destroy(xBuf);
            engine->device->destroy(yBuf);
            engine->device->destroy(auxBuf);
            engine->device->destroy(xhBuf);
            engine->device->destroy(x16Buf);
        }
    }

    // Runs gpu(); falls back to cpuFn() when it returns false (shape not handled) or throws
    // VkError (logged; a lost device disables the GPU for good).
    template <typename G, typename C>
    void guarded(const char* op, G gpu, C cpuFn)
    {
        if (!broken) {
            try {
                if (gpu()) {
                    lastGpu = true;
                    return;
                }
            } catch (const VkError& e) {
                spdlog::warn("vulkan: {} failed: {}; using the CPU", op, e.what());
                if (e.result == VK_ERROR_DEVICE_LOST)
                    broken = true;
            }
        }
        cpuFn();
        lastGpu = false;
        lastMs = cpu.lastKernelMs();
    }

    Binding whole(const Buffer& b, std::uint64_t bytes) const { return {&b, 0, roundUp4(std::max<std::uint64_t>(bytes, 4))}; }
    Binding rows(const Buffer& b, std::uint64_t first, std::uint64_t count, std::uint64_t bytesPerRow) const
    {
        const std::uint64_t off = first * bytesPerRow;
        return {&b, off, std::min(roundUp4(count * bytesPerRow), b.size - off)};
    }

    // Threads per weight row in gemv.comp: the subgroup size where subgroupAdd works.
    std::uint32_t gemvLanes() const
    {
        const std::uint32_t sg = engine->device->info.subgroupSize;
        const bool pow2 = sg >= 4 && sg <= 128 && (sg & (sg - 1)) == 0;
        return pow2 ? sg : 32u;
    }
    // gemv_mma.comp needs NV cooperative matrices with the 16x8x16 f16 -> f32 shape.
    // gemv_mma.comp checked once on this device (gemv_mma_check.cpp): -1 not yet, 0 failed,
    // 1 passed, 2 while the check runs.
    int gemvMmaChecked = -1;
    bool gemvMmaWorks();
    bool gemvMmaAvailable() const
    {
        if (!engine->device->coopMatrixF16)
            return false;
        const auto& shapes = engine->device->info.cooperativeMatrixShapes;
        return std::find(shapes.begin(), shapes.end(), "16x8x16 f16*f16+f32->f32") != shapes.end();
    }
    // gemv.comp's weight rows per thread when GemvTuning::rows is 0: 4, except for the packed-f16
    // int4 GEMV: converting X
    // in every row group, 8 on 8192 rows or more; with X converted once, 2 below 8192 rows. H100,
    // % of the copy ceiling: per-row X at 28672x8192 66% (r8) against 51% (r4); X once 76% (r4)
    // against 69% (r8), and at 4096x14336 55-56% (r2) against 50-51% (r4).
    static std::uint32_t gemvAutoRows(bool halfInt4, bool xOnce, std::uint64_t n)
    {
        if (halfInt4 && xOnce)
            return n >= 8192 ? 4u : 2u;
        return halfInt4 && n >= 8192 ? 8u : 4u;
    }
    // Threads per row group when not tuned (GPUs only): two subgroups where one subgroup would
    // take many 16-byte steps along a row: 4 or more for the packed-f16 int4 GEMV (K >= 4096; with
    // X converted once 69-74% -> 76% at 28672x8192, 38% -> 50% at 14336x4096), 14 or more
    // otherwise (int8 K >= 7168, f16 K >= 3584, f32 int4 K >= 14336). On the H100: int8
    // 28672x8192 86% -> 92%, 4096x14336 64% -> 75%; f16 4096x14336 76% -> 88%; shorter rows lost
    // (int8 14336x4096 79% -> 72%).
    std::uint32_t gemvAutoLanes(KernelId gemv, std::uint64_t k, bool halfInt4) const
    {
        const std::uint64_t perUnit = gemv == KernelId::GemvInt4 || gemv == KernelId::GemvNf4 || gemv == KernelId::GemvQ4K ? 32
                                      : gemv == KernelId::GemvInt8 || gemv == KernelId::GemvW8a8                          ? 16
                                                                                                                          : 8;
        return k / perUnit / gemvLanes() >= (halfInt4 ? 4u : 14u) ? 2 * gemvLanes() : 0u;
    }
    bool cpuDevice() const { return engine->device->info.type == "cpu"; }  // lavapipe and the like
    // Records to_half.comp over count8 groups of 8 values of src into dst (times scale; in the
    // packed-f16 GEMV's pair order where gemvPairs), then a compute barrier.
    void recordToHalf(VkCommandBuffer cb, Binding src, Binding dst, std::uint64_t count8, float scale, bool gemvPairs);
    // gemv.comp's work split for this format and shape (GemvTuning, else by shape on GPUs);
    // tile: rows of X per dispatch.
    GemvSplit gemvSplit(KernelId gemv, std::uint64_t k, std::uint64_t n, std::uint32_t tile, bool halfInt4, bool xOnce) const;
    Spec gemvSpec(const GemvSplit& s, std::uint32_t tile) const;
    bool useSubgroupAdd() const
    {
        const std::uint32_t sg = engine->device->info.subgroupSize;
        return gemvTuning.subgroupAdd && engine->device->subgroupArithmetic && gemvLanes() == sg;
    }
    bool gemm(const float* x, int m, std::span<const VulkanWeights* const> sets, int reps, float* y);
    bool w8a8(const Int8Activations& x, std::span<const VulkanWeights* const> sets, int reps, float* y);
    // resident: add onto this device buffer (a DeviceHessianSum's) instead of h.
    // halfInputs: X rounded to f16 on the tensor cores where the device has them (as if
    // hessianF16 were set); otherwise the member switch decides.
    bool hessian(const float* x, int m, int k, float* h, Buffer* resident = nullptr, bool halfInputs = false);
    bool hessianHalf(const float* x, int m, int k, float* h, Buffer* resident);
    // Both X^T X paths: X's rows to xBuf and H where the products add (the resident sum, or h
    // uploaded to yBuf), returned; then submit, record the kernel time, and read h back unless
    // the sum is resident.
    Buffer& stageHessian(const float* x, std::uint64_t m, std::uint64_t k, const float* h, Buffer* resident);
    void finishHessian(VkCommandBuffer cb, std::uint64_t k, float* h, Buffer* resident);
    class DeviceHessianSum;
    bool stats(const float* x, int m, int k, ChannelStats& acc);
    bool hist(std::span<const float> x, Histogram& acc);
    void upload(VulkanWeights& w);
};

} // namespace qs::compute
