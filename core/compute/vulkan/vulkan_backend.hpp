#pragma once
// The Vulkan compute backend. The loader is opened at run time, so a machine without Vulkan
// still runs everything on the CPU backend.
#include "core/compute/backend.hpp"
#include "core/compute/hessian_sum.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qs::compute {



struct VulkanHeap {
    std::uint64_t size = 0;
    bool deviceLocal = false;
};

// What matters about one device for our kernels (`quantscope-cli devices`).
struct VulkanDeviceInfo {
    int index = 0;
    std::string name;
    std::string type;  // discrete, integrated, virtual, cpu, other
    std::string driver;
    std::uint32_t apiVersion = 0;
    std::uint32_t vendorId = 0, deviceId = 0;
    std::uint32_t subgroupSize = 0;
    bool subgroupArithmetic = false;
    bool shaderFloat16 = false, shaderInt8 = false;
    bool storage8Bit = false, storage16Bit = false;
    bool nvCooperativeMatrix = false, khrCooperativeMatrix = false;
    bool pipelineExecutableProperties = false;  // VK_KHR_pipeline_executable_properties (QS_PIPELINE_STATS)
    std::vector<std::string> cooperativeMatrixShapes;  // "16x16x16 f16*f16+f32", NV query
    std::uint64_t maxStorageBufferRange = 0;
    std::uint32_t maxWorkgroupInvocations = 0;
    std::uint32_t maxSharedMemory = 0;
    std::uint32_t computeUnits = 0;  // streaming multiprocessors (VK_NV_shader_sm_builtins); 0: unknown
    std::uint32_t minStorageBufferOffsetAlignment = 0;
    double timestampPeriodNs = 0;
    std::vector<VulkanHeap> heaps;
    bool usable = false;  // Vulkan 1.2+ with a compute queue
    bool selected = false;
};

struct VulkanDeviceList {
    std::vector<VulkanDeviceInfo> devices;
    std::string error;  // why there is no list (no loader, no instance); empty otherwise
};

// Every device; `selected` marks the one makeVulkanBackend picks: QS_VULKAN_DEVICE (an index
// or a case-insensitive part of the name) if set, else discrete > integrated > virtual > cpu.
// Never throws.
VulkanDeviceList listVulkanDevices();
std::string describeDevice(const VulkanDeviceInfo& d);  // a few lines of text

// Which kernel ran a dequantGemm (for tests and the bench).
// GemvMma: 4-bit group-wise GEMV on the tensor cores (gemv_mma.comp, NVIDIA cooperative matrix).
enum class GemmPath { Portable, Gemv, CoopMatrix, GemvMma };
// Work splits of the cooperative-matrix GEMM (gemm_common.glsl). Auto (the backend's choice):
// Split for f16/bf16 and int8 weights at 1024 rows of X or more (6-10% faster there on the
// H100), else Default. Default: 128 x 128 tiles of
// 64 x 32 per subgroup; Wide 128 x 128 of 64 x 64 with two shared buffers; Big 128 x 256 of
// 64 x 64; Pipe the default's tiles in 32-wide steps through two shared buffers,
// software-pipelined (needs 48 KB of shared memory); Split 64 x 128 tiles of 4 subgroups of
// 64 x 32 (two or three workgroups per SM). The four exist for f16/bf16, int8 and group-wise
// weights; other formats keep the default.
enum class CoopLayout { Auto, Default, Wide, Big, Pipe, Split };
const char* gemmPathName(GemmPath p);
CoopLayout coopLayoutFromName(const std::string& name);  // "auto", "default", "wide", "big", "pipe", "split"; throws std::invalid_argument
// Batches up to this use the GEMV; from kCoopMinRows on, cooperative matrices where available
// (K a multiple of the cooperative-matrix GEMM's 64-wide steps; other K take the portable kernel).
constexpr int kGemvMaxRows = 32;
constexpr int kCoopMinRows = 64;

// Work split of gemv.comp (decode GEMV).
struct GemvTuning {
    bool enabled = true;
    bool subgroupAdd = true;        // false: shared-memory reduction even where subgroups work
    std::uint32_t workgroup = 128;  // threads, a power of two (at least one subgroup)
    std::uint32_t rows = 0;         // weight rows per thread (loads in flight, reuse of X), 1..16;
                                    // 0: by format and shape (gemvAutoRows in vulkan_backend.cpp)
    bool prefetch = false;          // int4: load the next step's codes before computing this one
                                    // (measured slower at 8 rows: registers)
    std::uint32_t lanes = 0;        // threads per group of weight rows (they split K), a power of
                                    // two up to the workgroup; 0: by shape on GPUs (two subgroups
                                    // for long rows, gemvAutoLanes), one subgroup on CPU devices
    // int4: dequant and products in packed f16 (gemv.comp HALF_MATH; X scaled by a power of two
    // into f16 range, f16 sums over 32 weights, f32 across them; normalized error ~3e-4 against
    // the f32 twin) where the device has shaderFloat16 and the zeros are integers in 0..15;
    // else the f32 kernel. halfMathOnGpu: the same by default on GPUs that are not CPU devices
    // (faster on the H100: 66% of the copy ceiling against 52% at 28672x8192; the
    // cooperative-matrix GEMM rounds to f16 likewise); lavapipe keeps f32.
    bool halfMath = false;
    bool halfMathOnGpu = true;
    // With the packed-f16 int4 GEMV: X converted to scaled f16 pairs once per call (to_half.comp)
    // instead of in every row group (same values): on the H100 76% of the copy ceiling against
    // 66% at 28672x8192 (4 rows, two subgroups; the pre-pass included).
    bool halfMathXOnce = true;
    // With halfMathXOnce: the pairs made on the host as X goes up (gemvHalfPairs) instead of by a
    // pre-pass on the GPU, where one dispatch covers X: the pre-pass with its barrier took 2.2 us
    // of 53 at 28672x8192 on the H100 (78.3 -> 81.7% of the copy ceiling).
    bool halfMathXOnHost = true;
    // gemv_mma.comp (4-bit, groups a multiple of 128, no g_idx, devices with NV cooperative
    // matrix 16x8x16): used instead of gemv.comp where it applies. Off by default until it has
    // been checked and timed on a device (scripts/device/kernels_h100.sh; docs/benchmarks.md).
    bool mma = false;
    std::uint32_t mmaWarps = 4;     // subgroups per workgroup (they split K), 1..8
    std::uint32_t mmaTiles = 2;     // 16-row tiles per workgroup, 1..4
    bool mmaPrefetch = true;        // next block's codes loaded before this block's math
    std::uint32_t mmaMode = 0;      // 0: 0x6400 f16 magic, 1: f16 subnormals
    bool mmaXlo = true;             // X as hi + lo f16 (f32 accuracy); false: f16 X (~3e-4)
};

class VulkanBackend final : public Backend {
public:
    // nullptr with *whyNot filled when no loader, no usable device, or setup fails.
    static std::unique_ptr<VulkanBackend> create(std::string* whyNot);
    ~VulkanBackend() override;

    std::string name() const override;
    bool isGpu() const override { return true; }
    bool isCpuDevice() const override;
    std::shared_ptr<PreparedWeights> prepare(std::shared_ptr<const WeightMatrix> w) override;
    void dequantGemm(const float* x, int m, const PreparedWeights& w, float* y) override;
    void w8a8Gemm(const Int8Activations& x, const PreparedWeights& w, float* y) override;
    void hessianAccumulate(const float* x, int m, int k, float* h) override;
    void channelStats(const float* x, int m, int k, ChannelStats& acc) override;
    void histogram(std::span<const float> x, Histogram& acc) override;
    // attention.comp for head dims that are multiples of 16 up to 128 and keys/values of one
    // sample within a binding; the CPU otherwise (the reason logged once).
    void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) override;
    // awq_clip.comp for group sizes that are multiples of 32 up to 128 on devices with f64 in
    // shaders (the exact rounding check); the CPU twin otherwise (the reason logged once).
    void awqClipErrors(const AwqClipProblem& p, float* errors, float* orgMax) override;
    std::unique_ptr<F32Matrix> makeF32Matrix(int rows, int cols) override;
    void writeF32(F32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld) override;
    void readF32(const F32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld) override;
    void gemmF32(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc) override;
    double lastKernelMs() const override;
    using Backend::dequantGemm;
    using Backend::gemmF32;
    // gemm_f32.comp's tile: 0 by shape and device (default), 1: 64x64 with 4x4 per thread,
    // 2: 128x128 with 8x8 per thread.
    void setGemmF32Tile(int mode);
    // y_i = x dequant(W_i)^T for weights that read the same x (q/k/v, gate/up): x is uploaded
    // once for all of them. Same checks as dequantGemm; all W_i have the same columns.
    void dequantGemmShared(const float* x, int m, std::span<const PreparedWeights* const> ws, std::span<float* const> ys);
    // X^T X summed in device memory between adds (rows travel, the sum only when read); on the
    // host where the device cannot hold it. Use compute::makeHessianSum (hessian_sum.hpp).
    std::unique_ptr<HessianSum> makeHessianSum(int k, HessianInputs inputs = HessianInputs::Exact);

    const VulkanDeviceInfo& device() const;
    // True when the last op ran on the GPU (false after a fallback to the CPU).
    bool lastRanOnGpu() const;
    // Device-to-device copy of `bytes` (shader copy), best of `reps`: GB/s counting read+write.
    double measureCopyGBs(std::size_t bytes, int reps);
    // The tensor cores' rate through GL_NV_cooperative_matrix (f16 x f16 -> f32, operands in
    // registers, no memory traffic), median of `reps`: the compute ceiling of the cooperative-
    // matrix GEMMs and X^T X. 0 where the device has no NV cooperative matrices. sharedWn 32 or
    // 64: the operands loaded from shared memory as the GEMMs' inner loop does (64 x sharedWn
    // per subgroup, mma_shared_peak.comp), still without global memory or barriers; sharedStride:
    // the shared rows' stride in 16-byte units (9: the GEMMs' padded rows); mode: the order of
    // loads and products (mma_shared_peak.comp MODE); threads: 256 or 128 per workgroup. int8:
    // the int8 16x16x32 products into int32 instead, from registers (W8A8's ceiling, in int8
    // TOP/s; 0 where the device lacks them).
    double measureMmaTflops(int reps, std::uint32_t sharedWn = 0, std::uint32_t sharedStride = 9, std::uint32_t mode = 0,
                            std::uint32_t threads = 256, bool int8 = false);
    // Work split of the dequant kernels: threads per workgroup (power of two) and rows of X
    // per workgroup (1..16).
    void setGemmTiling(std::uint32_t workgroup, std::uint32_t rowsPerWorkgroup);
    // Pretend bindings are at most this large, to exercise the splitting on small tensors.
    void setMaxBindingBytesForTesting(std::uint64_t bytes);
    // Move data through the staging buffer even where device memory is host-visible (as on a
    // discrete GPU), so that lavapipe exercises that path too.
    void setForceStagingForTesting(bool on);
    // awq_clip.comp: add this many ulps to the device's quotients before the kernel settles the
    // rounding exactly (lavapipe divides exactly; a GPU's division may be a few ulp off).
    void setAwqClipQuotientSkewForTesting(int ulps);
    void setGemvTuning(const GemvTuning& t);
    // Cooperative-matrix GEMM (f16 inputs, f32 accumulation; normalized error ~3e-4 against
    // f32) for batches >= kCoopMinRows where the device has it; on by default.
    void setCooperativeMatrix(bool on);
    // The cooperative-matrix GEMM reads X converted to f16 once per GEMM (to_half.comp) instead
    // of converting f32 X in every column tile: same values (X is rounded to f16 either way),
    // half the bytes. On by default (equal or faster on the H100: docs/benchmarks.md).
    void setCooperativeMatrixHalfX(bool on);
    // With X in f16 once: 4-bit group-wise weights (integer zeros in 0..15, no g_idx) dequantized
    // in packed f16 against X in to_half.comp's pair order (dq_intg.comp W_PAIRS); same values up
    // to the scale's rounding to f16. On by default; off: the f32 dequantization.
    void setCooperativeMatrixHalfDequant(bool on);
    // The GEMM's work split (gemm_common.glsl; Auto: Wide for f16/bf16 and int8 weights from 512
    // rows, else Default); also w8a8Gemm's (Big and Wide; Auto by grid fill).
    void setCooperativeMatrixLayout(CoopLayout layout);
    // The GEMM's grid runs X's row tiles fastest, so one tile of W serves all of them while it is
    // in L2 (on by default); off: W's tiles fastest, W streamed once per row tile of X.
    void setCooperativeMatrixRowTilesFirst(bool on);
    // The GEMM's inner loop: 0 all tiles of A and B then the products, 1 per tile of B its load
    // and products, 2 the next slice's tiles loaded before this slice's products.
    void setCooperativeMatrixLoadOrder(std::uint32_t order);
    // X^T X with cooperative matrices (split f16, f32 accuracy); off by default: slower than the
    // f32 kernel on the H100 so far (docs/benchmarks.md).
    void setCooperativeMatrixHessian(bool on);
    // X^T X with X rounded to f16 and f32 accumulation on the tensor cores (NV cooperative
    // matrix; GPTQ's reference also feeds f16 activations). Normalized error against the f32 CPU
    // twin ~3e-4 (the f16 rounding of X). Off by default; where the device lacks cooperative
    // matrices, K % 8 != 0 or |x| exceeds f16, the f32 kernel runs. columnsPerSubgroup: 32 or 64
    // (the kernel's work split).
    void setHessianF16(bool on, std::uint32_t columnsPerSubgroup = 32);
    bool hessianF16Available() const;
    // True where gemv_mma.comp runs (NV cooperative matrix with the 16x8x16 f16 shape, and its
    // fragment-layout check passed on a small product the first time it is asked: it fails on
    // the H100's driver): 4-bit group-wise weights with groups a multiple of 128 and no g_idx
    // then take GemmPath::GemvMma at batches up to kGemvMaxRows (with GemvTuning::mma).
    bool hasTensorCoreGemv() const;
    bool hasCooperativeMatrix() const;
    bool hasInt8CooperativeMatrix() const;  // 16x16x32 s8*s8+s32: w8a8Gemm on the tensor cores
    GemmPath lastGemmPath() const;
    // The kernel the last w8a8Gemm ran on the GPU: "portable", "coopmat" (int8 tensor cores,
    // 128 x 128 tiles), "coopmat big" or "coopmat wide" (setCooperativeMatrixLayout Big / Wide).
    std::string lastW8a8Path() const;
    // Whether the last dequantGemm's cooperative-matrix GEMM dequantized int4 in packed f16.
    bool lastCoopHalfDequant() const;
    // Whether the last dequantGemm ran gemv.comp's packed-f16 int4 variant (GemvTuning::halfMath).
    bool lastGemvHalfMath() const;
    // Benchmarks: `reps` GEMMs back to back in one submission (a barrier between them), cycling
    // through `sets` (same format and shape); returns GPU ms per GEMM, or -1 where this cannot
    // run on the GPU. y gets the last product.
    double timeDequantGemm(const float* x, int m, const std::vector<const PreparedWeights*>& sets, int reps, float* y);
    // The same for w8a8Gemm (int8 weights, per channel).
    double timeW8a8Gemm(const Int8Activations& x, const std::vector<const PreparedWeights*>& sets, int reps, float* y);

private:
    VulkanBackend();
    struct Impl;
    std::unique_ptr<Impl> d_;
};

std::unique_ptr<Backend> makeVulkanBackend(std::string* whyNot);

} // namespace qs::compute
