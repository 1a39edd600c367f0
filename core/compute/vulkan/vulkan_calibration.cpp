// The Vulkan backend's calibration kernels: X^T X (f32, split-f16 and f16-input on the tensor
// cores, and the device-resident running sum), per-channel statistics and histograms.
#include "core/compute/vulkan/vulkan_backend_impl.hpp"
// Vulkan structs are zero-initialised with only sType named: an intended idiom.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "core/compute/hessian_sum.hpp"
#include "core/util/stage_timer.hpp"

#include <algorithm>
#include <cstring>

namespace qs::compute {

// ------------------------------------------------------------------------------ calibration

bool VulkanBackend::Impl::hessian(const float* x, int mInt, int kInt, float* h, Buffer* resident, bool halfInputs)
{
    const std::uint64_t m = std::uint64_t(mInt), k = std::uint64_t(kInt), row = k * 4;
    if ((hessianF16 || halfInputs) && dev().coopMatrixF16 && k % 8 == 0 && m * row <= maxBinding && fitsHalf(x, m * k))
        return hessianHalf(x, mInt, kInt, h, resident);
    const bool coop = coopHessian && dev().coopMatrixF16 && fitsHalf(x, m * k);
    const std::uint64_t tileRows = coop ? 128 : 64;
    const std::uint64_t g = rowGranularity(align(), {row});
    const std::uint64_t mChunk = std::min(m, floorTo(maxBinding / row, g));
    std::uint64_t iChunk = std::min(k, maxBinding / row);
    if (iChunk < k)
        iChunk = floorTo(floorTo(iChunk, tileRows), g);  // whole tiles per chunk
    if (mChunk == 0 || iChunk == 0 || ceilDiv(m, mChunk) * ceilDiv(k, iChunk) > kMaxSetsPerSubmission)
        return false;
    Buffer& hBuf = stageHessian(x, m, k, h, resident);
    VkCommandBuffer cb = dev().begin();
    dev().timestamp(cb, 0);
    for (std::uint64_t m0 = 0; m0 < m; m0 += mChunk) {
        const std::uint64_t mc = std::min(mChunk, m - m0);
        for (std::uint64_t i0 = 0; i0 < k; i0 += iChunk) {
            const std::uint64_t ic = std::min(iChunk, k - i0);
            std::array<Binding, kBindings> b{};
            b[0] = rows(xBuf, m0, mc, row);
            b[1] = rows(hBuf, i0, ic, row);
            const std::uint32_t pc[4] = {std::uint32_t(mc), std::uint32_t(k), std::uint32_t(i0), std::uint32_t(ic)};
            kernels().dispatch(cb, coop ? KernelId::HessianCm : KernelId::Hessian, Spec{}, b, pc, sizeof(pc),
                               ceilDiv(k, tileRows), ceilDiv(ic, tileRows));
        }
        dev().computeBarrier(cb);  // the next rows of X add onto the same H
    }
    finishHessian(cb, k, h, resident);
    return true;
}

Buffer& VulkanBackend::Impl::stageHessian(const float* x, std::uint64_t m, std::uint64_t k, const float* h, Buffer* resident)
{
    const std::uint64_t row = k * 4;
    dev().ensure(xBuf, m * row);
    if (!resident) {
        dev().ensure(yBuf, k * row);
        dev().upload(yBuf, 0, h, k * row);
    }
    dev().upload(xBuf, 0, x, m * row);
    kernels().resetDescriptors();
    return resident ? *resident : yBuf;
}

void VulkanBackend::Impl::finishHessian(VkCommandBuffer cb, std::uint64_t k, float* h, Buffer* resident)
{
    dev().timestamp(cb, 1);
    lastMs = dev().submitAndWait(cb);
    prof::add("vk.hessian.gpu_timestamps", lastMs * 1e-3);
    if (!resident)
        dev().download(yBuf, 0, h, k * k * 4);
}

// X^T X from X rounded to f16, f32 accumulation on the tensor cores: X goes to f16 once
// (to_half.comp), then hessian_f16.comp; with H bound whole only the tiles on and above the
// diagonal are computed (each also adds its transpose).
bool VulkanBackend::Impl::hessianHalf(const float* x, int mInt, int kInt, float* h, Buffer* resident)
{
    const std::uint64_t m = std::uint64_t(mInt), k = std::uint64_t(kInt), row = k * 4;
    const std::uint64_t g = rowGranularity(align(), {row});
    std::uint64_t iChunk = std::min(k, maxBinding / row);
    if (iChunk < k)
        iChunk = floorTo(floorTo(iChunk, 128), g);
    if (iChunk == 0 || ceilDiv(k, iChunk) + 1 > kMaxSetsPerSubmission)
        return false;
    const bool sym = iChunk == k;
    dev().ensure(x16Buf, m * k * 2);
    Buffer& hBuf = stageHessian(x, m, k, h, resident);
    VkCommandBuffer cb = dev().begin();
    dev().timestamp(cb, 0);
    recordToHalf(cb, whole(xBuf, m * row), whole(x16Buf, m * k * 2), m * k / 8, 1.0f, false);
    const std::uint32_t wn = hessianF16Wn == 64 ? 64u : 32u;
    const Spec spec{32u * 2u * (128u / wn), wn, 0, 0, 0, 0};
    for (std::uint64_t i0 = 0; i0 < k; i0 += iChunk) {
        const std::uint64_t ic = std::min(iChunk, k - i0);
        std::array<Binding, kBindings> b{};
        b[0] = whole(x16Buf, m * k * 2);
        b[1] = rows(hBuf, i0, ic, row);
        const std::uint32_t pc[5] = {std::uint32_t(m), std::uint32_t(k), std::uint32_t(i0), std::uint32_t(ic), sym ? 1u : 0u};
        kernels().dispatch(cb, KernelId::HessianF16, spec, b, pc, sizeof(pc), ceilDiv(k, 128), ceilDiv(ic, 128));
    }
    finishHessian(cb, k, h, resident);
    return true;
}

// The K x K sum stays in a device buffer; each add uploads only its rows. Where the GPU cannot
// take a batch (a shape the kernel does not handle, or a failure), the sum moves to the host once
// and the CPU continues it. Must not outlive the backend that made it.
class VulkanBackend::Impl::DeviceHessianSum final : public HessianSum {
public:
    DeviceHessianSum(Impl& impl, int k, HessianInputs inputs)
        : HessianSum(k), impl_(impl), engine_(impl.engine), halfInputs_(inputs == HessianInputs::Half)
    {
        const std::uint64_t bytes = std::uint64_t(k) * std::uint64_t(k) * 4;
        buf_ = impl_.dev().createDeviceBuffer(bytes);
        try {
            VkCommandBuffer cb = impl_.dev().begin();
            impl_.dev().fn.vkCmdFillBuffer(cb, buf_.buffer, 0, VK_WHOLE_SIZE, 0);
            impl_.dev().submitAndWait(cb);
        } catch (...) {
            impl_.dev().destroy(buf_);
            throw;
        }
    }
    ~DeviceHessianSum() override { engine_->device->destroy(buf_); }

    void add(const float* x, int m) override
    {
        checkMatrixArgs("HessianSum::add", x, m, k());
        if (host_.empty()) {
            try {
                if (!impl_.broken && impl_.hessian(x, m, k(), nullptr, &buf_, halfInputs_))
                    return;
            } catch (const VkError& e) {
                if (e.result == VK_ERROR_DEVICE_LOST) {
                    impl_.broken = true;
                    throw ComputeError(std::string("vulkan: the device was lost while summing X^T X: ") + e.what());
                }
                spdlog::warn("vulkan: X^T X failed: {}; the sum continues on the CPU", e.what());
            }
            host_.resize(std::size_t(k()) * std::size_t(k()));
            impl_.dev().download(buf_, 0, host_.data(), host_.size() * 4);
        }
        impl_.cpu.hessianAccumulate(x, m, k(), host_.data());
    }

    void read(float* h) override
    {
        if (!host_.empty()) {
            std::copy(host_.begin(), host_.end(), h);
            return;
        }
        try {
            impl_.dev().download(buf_, 0, h, std::uint64_t(k()) * std::uint64_t(k()) * 4);
        } catch (const VkError& e) {
            throw ComputeError(std::string("vulkan: reading X^T X back failed: ") + e.what());
        }
    }

private:
    Impl& impl_;
    std::shared_ptr<Engine> engine_;
    Buffer buf_;
    bool halfInputs_ = false;
    std::vector<float> host_;  // the sum, once it has moved to the host
};

bool VulkanBackend::Impl::stats(const float* x, int mInt, int kInt, ChannelStats& acc)
{
    const std::uint64_t m = std::uint64_t(mInt), k = std::uint64_t(kInt), row = k * 4;
    const std::uint64_t mChunk = std::min(m, floorTo(maxBinding / row, rowGranularity(align(), {row})));
    if (mChunk == 0)
        return false;
    // Slices of rows per dispatch: enough workgroups to fill a GPU, partials summed on the host.
    std::vector<std::uint32_t> slices, perSlice;
    std::uint64_t totalSlices = 0;
    for (std::uint64_t m0 = 0; m0 < m; m0 += mChunk) {
        const std::uint64_t mc = std::min(mChunk, m - m0);
        const std::uint64_t rowsPer = std::max<std::uint64_t>(16, (mc + 255) / 256);
        slices.push_back(ceilDiv(mc, rowsPer));
        perSlice.push_back(std::uint32_t(rowsPer));
        totalSlices += slices.back();
    }
    const std::uint64_t outBytes = totalSlices * 3 * row;
    if (outBytes > maxBinding || slices.size() > kMaxSetsPerSubmission)
        return false;
    dev().ensure(xBuf, m * row);
    dev().ensure(yBuf, outBytes);
    dev().upload(xBuf, 0, x, m * row);
    kernels().resetDescriptors();
    VkCommandBuffer cb = dev().begin();
    dev().timestamp(cb, 0);
    std::uint64_t outBase = 0;
    for (std::size_t c = 0; c < slices.size(); ++c) {
        const std::uint64_t m0 = c * mChunk, mc = std::min(mChunk, m - m0);
        std::array<Binding, kBindings> b{};
        b[0] = rows(xBuf, m0, mc, row);
        b[1] = whole(yBuf, outBytes);
        const std::uint32_t pc[4] = {std::uint32_t(mc), std::uint32_t(k), perSlice[c], std::uint32_t(outBase)};
        kernels().dispatch(cb, KernelId::ChanStats, Spec{}, b, pc, sizeof(pc), ceilDiv(k, 128), slices[c]);
        outBase += std::uint64_t(slices[c]) * 3 * k;
    }
    dev().timestamp(cb, 1);
    lastMs = dev().submitAndWait(cb);
    std::vector<float> part(totalSlices * 3 * k);
    dev().download(yBuf, 0, part.data(), outBytes);
    for (std::uint64_t s = 0; s < totalSlices; ++s) {
        const float* p = part.data() + s * 3 * k;
        for (std::uint64_t c = 0; c < k; ++c) {
            acc.absmax[c] = std::max(acc.absmax[c], p[c]);
            acc.sumAbs[c] += p[k + c];
            acc.sumSq[c] += p[2 * k + c];
        }
    }
    acc.rows += m;
    return true;
}

bool VulkanBackend::Impl::hist(std::span<const float> x, Histogram& acc)
{
    const std::uint64_t bins = acc.counts.size();
    if ((bins + 1) * 4 > maxBinding)
        return false;
    // uint32 counters on the device: at most 2^30 elements per submission, then drained.
    const std::uint64_t perBinding = floorTo(maxBinding / 4, rowGranularity(align(), {4}));
    const std::uint64_t perSubmit = std::min<std::uint64_t>(1ull << 30, perBinding * 64);
    std::vector<std::uint32_t> counts(bins + 3);
    std::vector<std::uint64_t> total(bins + 3, 0);
    dev().ensure(auxBuf, acc.edges.size() * 4);
    dev().upload(auxBuf, 0, acc.edges.data(), acc.edges.size() * 4);
    dev().ensure(yBuf, (bins + 3) * 4);
    double ms = 0;
    for (std::uint64_t s0 = 0; s0 < x.size(); s0 += perSubmit) {
        const std::uint64_t sc = std::min<std::uint64_t>(perSubmit, x.size() - s0);
        dev().ensure(xBuf, sc * 4);
        dev().upload(xBuf, 0, x.data() + s0, sc * 4);
        kernels().resetDescriptors();
        VkCommandBuffer cb = dev().begin();
        dev().timestamp(cb, 0);
        dev().fn.vkCmdFillBuffer(cb, yBuf.buffer, 0, roundUp4((bins + 3) * 4), 0);
        dev().computeBarrier(cb);
        for (std::uint64_t c0 = 0; c0 < sc; c0 += perBinding) {
            const std::uint64_t cc = std::min(perBinding, sc - c0);
            std::array<Binding, kBindings> b{};
            b[0] = rows(xBuf, c0, cc, 4);
            b[1] = whole(yBuf, (bins + 3) * 4);
            b[3] = whole(auxBuf, acc.edges.size() * 4);
            const std::uint32_t pc[2] = {std::uint32_t(cc), std::uint32_t(bins)};
            kernels().dispatch(cb, KernelId::Histogram, Spec{}, b, pc, sizeof(pc), std::min<std::uint32_t>(ceilDiv(cc, 256), 2048), 1);
        }
        dev().timestamp(cb, 1);
        ms += dev().submitAndWait(cb);
        dev().download(yBuf, 0, counts.data(), (bins + 3) * 4);
        for (std::size_t i = 0; i < counts.size(); ++i)
            total[i] += counts[i];
    }
    for (std::uint64_t i = 0; i < bins; ++i)
        acc.counts[i] += total[i];
    acc.below += total[bins];
    acc.above += total[bins + 1];
    acc.nan += total[bins + 2];
    lastMs = ms;
    return true;
}

void VulkanBackend::hessianAccumulate(const float* x, int m, int k, float* h)
{
    checkMatrixArgs("hessianAccumulate", x, m, k);
    if (!h)
        throw ComputeError("hessianAccumulate: null output");
    d_->guarded("hessianAccumulate", [&] { return d_->hessian(x, m, k, h); }, [&] { d_->cpu.hessianAccumulate(x, m, k, h); });
}

std::unique_ptr<HessianSum> VulkanBackend::makeHessianSum(int k, HessianInputs inputs)
{
    if (k < 1)
        throw ComputeError("HessianSum: need at least one column, got " + std::to_string(k));
    if (!d_->broken) {
        try {
            return std::make_unique<Impl::DeviceHessianSum>(*d_, k, inputs);
        } catch (const VkError& e) {
            spdlog::warn("vulkan: no device memory for a {}x{} X^T X ({}); it is summed on the CPU", k, k, e.what());
        }
    }
    return makeHostHessianSum(d_->cpu, k);
}

void VulkanBackend::channelStats(const float* x, int m, int k, ChannelStats& acc)
{
    checkMatrixArgs("channelStats", x, m, k);
    if (acc.k != k || acc.absmax.size() != std::size_t(k) || acc.sumAbs.size() != std::size_t(k) ||
        acc.sumSq.size() != std::size_t(k))
        throw ComputeError("channelStats: accumulator does not match " + std::to_string(k) + " columns");
    d_->guarded("channelStats", [&] { return d_->stats(x, m, k, acc); }, [&] { d_->cpu.channelStats(x, m, k, acc); });
}

void VulkanBackend::histogram(std::span<const float> x, Histogram& acc)
{
    validateEdges(acc.edges);
    if (acc.counts.size() != acc.edges.size() - 1)
        throw ComputeError("histogram: counts size != edges - 1");
    if (x.empty()) {
        d_->lastMs = 0;
        return;
    }
    d_->guarded("histogram", [&] { return d_->hist(x, acc); }, [&] { d_->cpu.histogram(x, acc); });
}

} // namespace qs::compute
