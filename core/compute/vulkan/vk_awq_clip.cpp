#include "core/compute/vulkan/vk_awq_clip.hpp"

#include "core/compute/vulkan/vk_sizes.hpp"
#include "core/util/stage_timer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace qs::compute::vk {
namespace {

// awq_clip.comp's shared arrays: D (gs x (rows + 1)), a 16-row tile of G_g, six per-row values.
std::uint64_t sharedBytes(std::uint64_t gs, std::uint64_t rows) { return 4 * (gs * (rows + 1) + 16 * gs + 6 * rows); }

struct AwqClipPush {
    std::uint32_t rows, k, groups, steps, rowBase, nTotal, bits, symmetric;
};

} // namespace

AwqClipRunner::~AwqClipRunner()
{
    dev_.destroy(w_);
    dev_.destroy(gram_);
    dev_.destroy(shrinks_);
    dev_.destroy(errors_);
    dev_.destroy(orgMax_);
}

std::uint32_t AwqClipRunner::rowsPerWorkgroup(int groupSize) const
{
    const std::uint64_t gs = std::uint64_t(groupSize);
    // D's space also takes the error partials (rows x 33 floats).
    for (std::uint32_t rows : {64u, 32u, 16u})
        if (sharedBytes(gs, rows) <= dev_.info.maxSharedMemory && gs * (rows + 1) >= 33ull * rows)
            return rows;
    return 0;
}

void AwqClipRunner::logFallback(const std::string& why)
{
    if (logged_.insert(why).second)
        spdlog::info("vulkan: the AWQ clip search runs on the CPU: {}", why);
}

bool AwqClipRunner::run(const AwqClipProblem& p, float* errors, float* orgMax, std::uint64_t maxBinding, double* ms,
                        std::string* whyNot)
{
    if (!dev_.shaderFloat64) {
        *whyNot = "the device has no f64 in shaders (the kernel's exact rounding needs it)";
        return false;
    }
    if (p.groupSize % 32 != 0 || p.groupSize > kAwqClipMaxGroup) {
        *whyNot = "group size " + std::to_string(p.groupSize) + " (the kernel takes multiples of 32 up to " +
                  std::to_string(kAwqClipMaxGroup) + ")";
        return false;
    }
    const std::uint32_t rowsPerGroup = rowsPerWorkgroup(p.groupSize);
    if (rowsPerGroup == 0) {
        *whyNot = "group size " + std::to_string(p.groupSize) + " needs " + std::to_string(sharedBytes(std::uint64_t(p.groupSize), 16)) +
                  " bytes of shared memory, the device has " + std::to_string(dev_.info.maxSharedMemory);
        return false;
    }
    const std::uint64_t n = std::uint64_t(p.n), k = std::uint64_t(p.k), gs = std::uint64_t(p.groupSize);
    const std::uint64_t groups = k / gs, steps = p.shrinks.size();
    const std::uint64_t rowBytes = k * 4, gramBytes = groups * gs * gs * 4, errorBytes = steps * n * groups * 4,
                        maxBytes = n * groups * 4;
    const std::uint64_t align = std::max<std::uint64_t>(16, dev_.info.minStorageBufferOffsetAlignment);
    std::uint64_t chunk = std::min(n, floorTo(maxBinding / rowBytes, rowGranularity(align, {rowBytes})));
    chunk = std::min<std::uint64_t>(chunk, 65535ull * rowsPerGroup);
    if (gramBytes > maxBinding || errorBytes > maxBinding || groups > 65535 || chunk == 0 ||
        ceilDiv(n, chunk) > kMaxSetsPerSubmission) {
        *whyNot = "the shape (" + std::to_string(n) + " x " + std::to_string(k) + ", " + std::to_string(steps) +
                  " shrinks) does not split into bindings of at most " + std::to_string(maxBinding) + " bytes";
        return false;
    }

    prof::StageTimer uploadTimer("vk.awq_clip.upload");
    dev_.ensure(w_, n * rowBytes);
    dev_.ensure(gram_, gramBytes);
    dev_.ensure(shrinks_, steps * 4);
    dev_.ensure(errors_, errorBytes);
    dev_.ensure(orgMax_, maxBytes);
    dev_.upload(w_, 0, p.w, n * rowBytes);
    dev_.upload(gram_, 0, p.gram, gramBytes);
    dev_.upload(shrinks_, 0, p.shrinks.data(), steps * 4);
    uploadTimer.stop();

    kernels_.resetDescriptors();
    VkCommandBuffer cb = dev_.begin();
    dev_.timestamp(cb, 0);
    for (std::uint64_t r0 = 0; r0 < n; r0 += chunk) {
        const std::uint64_t rc = std::min(chunk, n - r0);
        std::array<Binding, kBindings> b{};
        b[0] = {&w_, r0 * rowBytes, rc * rowBytes};
        b[1] = {&gram_, 0, gramBytes};
        b[2] = {&shrinks_, 0, steps * 4};
        b[3] = {&errors_, 0, errorBytes};
        b[4] = {&orgMax_, 0, maxBytes};
        const AwqClipPush pc{std::uint32_t(rc),     std::uint32_t(k), std::uint32_t(groups),  std::uint32_t(steps),
                             std::uint32_t(r0),     std::uint32_t(n), std::uint32_t(p.bits), p.symmetric ? 1u : 0u};
        kernels_.dispatch(cb, KernelId::AwqClip, Spec{std::uint32_t(gs), rowsPerGroup, std::uint32_t(skew_), 0, 0, 0}, b, &pc, sizeof(pc),
                          std::uint32_t(groups), ceilDiv(rc, rowsPerGroup));
    }
    dev_.timestamp(cb, 1);
    {
        prof::StageTimer t("vk.awq_clip.submit_wait");
        *ms = dev_.submitAndWait(cb);
    }
    prof::add("vk.awq_clip.gpu_timestamps", *ms * 1e-3);
    prof::StageTimer downloadTimer("vk.awq_clip.download");
    dev_.download(errors_, 0, errors, errorBytes);
    dev_.download(orgMax_, 0, orgMax, maxBytes);
    return true;
}

} // namespace qs::compute::vk
