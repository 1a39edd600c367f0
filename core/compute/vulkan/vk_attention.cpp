#include "core/compute/vulkan/vk_attention.hpp"

#include "core/compute/vulkan/vk_sizes.hpp"
#include "core/util/stage_timer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace qs::compute::vk {
namespace {

// attention.comp's work split: query rows per workgroup.
constexpr std::uint64_t kQueryRows = 32;

// attention.comp's shared arrays: Q and K/V tiles (rows padded by one vec4), probabilities
// (rows padded by one float) and the per-row partial maxima and sums.
std::uint64_t sharedBytes(std::uint64_t headDim, std::uint64_t keysPerTile)
{
    const std::uint64_t row = (headDim / 4 + 1) * 16;
    return (kQueryRows + keysPerTile) * row + kQueryRows * (keysPerTile + 1) * 4 + 2 * kQueryRows * 4 * 4;
}

struct AttentionPush {
    std::uint32_t queries;     // query rows bound per sample
    std::uint32_t keys;        // keys per sample
    std::uint32_t firstQuery;  // the sample's row of bound query row 0
    std::uint32_t offset;      // position of the sample's query row 0: keys - queries
    std::uint32_t heads, kvHeads;
    std::uint32_t blocks;      // query blocks per (sample, head)
    float scale;
};

// One dispatch: samples [s0, s0 + ns), their query rows [t0, t0 + nt).
struct Piece {
    std::uint64_t s0, ns, t0, nt;
};

std::uint64_t roundUp256(std::uint64_t v) { return (v + 255) & ~std::uint64_t(255); }

} // namespace

AttentionRunner::~AttentionRunner()
{
    dev_.destroy(q_);
    dev_.destroy(k_);
    dev_.destroy(v_);
    dev_.destroy(o_);
}

std::uint32_t AttentionRunner::keysPerTile(int headDim) const
{
    for (std::uint32_t bk : {32u, 16u})
        if (sharedBytes(std::uint64_t(headDim), bk) <= dev_.info.maxSharedMemory)
            return bk;
    return 0;
}

void AttentionRunner::logFallback(const std::string& why)
{
    if (logged_.insert(why).second)
        spdlog::info("vulkan: attention runs on the CPU: {}", why);
}

bool AttentionRunner::run(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                          std::uint64_t maxBinding, double* ms, std::string* whyNot)
{
    const std::uint64_t D = std::uint64_t(s.headDim), T = std::uint64_t(s.queries), S = std::uint64_t(s.keys);
    const std::uint64_t N = std::uint64_t(s.samples), heads = std::uint64_t(s.heads);
    if (D % 16 != 0 || D > std::uint64_t(kAttentionMaxHeadDim)) {
        *whyNot = "head dim " + std::to_string(D) + " (the kernel takes multiples of 16 up to " +
                  std::to_string(kAttentionMaxHeadDim) + ")";
        return false;
    }
    const std::uint32_t bk = keysPerTile(s.headDim);
    if (bk == 0) {
        *whyNot = "head dim " + std::to_string(D) + " needs " + std::to_string(sharedBytes(D, 16)) +
                  " bytes of shared memory, the device has " + std::to_string(dev_.info.maxSharedMemory);
        return false;
    }
    const std::uint64_t qRow = heads * D * 4, kvRow = std::uint64_t(s.kvHeads) * D * 4;
    const std::uint64_t qSample = T * qRow, kvSample = S * kvRow;
    const std::uint64_t align = std::max<std::uint64_t>(16, dev_.info.minStorageBufferOffsetAlignment);
    if (kvSample > maxBinding) {
        *whyNot = "the keys and values of one sample (" + std::to_string(kvSample) + " bytes) exceed a binding (" +
                  std::to_string(maxBinding) + ")";
        return false;
    }
    // Whole samples per dispatch where a sample's queries fit a binding, else query rows of
    // one sample per dispatch (their keys and values bound whole).
    std::vector<Piece> pieces;
    if (qSample <= maxBinding) {
        std::uint64_t ns = std::min<std::uint64_t>({N, maxBinding / std::max(qSample, kvSample), 65535 / heads});
        if (ns < N)
            ns = floorTo(ns, rowGranularity(align, {qSample, kvSample}));
        for (std::uint64_t s0 = 0; ns > 0 && s0 < N; s0 += ns)
            pieces.push_back({s0, std::min(ns, N - s0), 0, T});
    } else if (N == 1 || (qSample % align == 0 && kvSample % align == 0)) {
        const std::uint64_t nt = floorTo(maxBinding / qRow, rowGranularity(align, {qRow}));
        for (std::uint64_t s0 = 0; nt > 0 && s0 < N; ++s0)
            for (std::uint64_t t0 = 0; t0 < T; t0 += nt)
                pieces.push_back({s0, 1, t0, std::min(nt, T - t0)});
    }
    if (pieces.empty() || pieces.size() > kMaxSetsPerSubmission || ceilDiv(pieces.front().nt, kQueryRows) > 65535 ||
        heads > 65535) {
        *whyNot = "no split of " + std::to_string(N) + " samples x " + std::to_string(qSample) +
                  " bytes of queries into aligned bindings of at most " + std::to_string(maxBinding) + " bytes";
        return false;
    }

    const std::uint64_t qBytes = N * qSample, kvBytes = N * kvSample;
    prof::StageTimer uploadTimer("vk.attention.upload");
    dev_.ensure(q_, qBytes);
    dev_.ensure(k_, kvBytes);
    dev_.ensure(v_, kvBytes);
    dev_.ensure(o_, qBytes);
    // Where everything goes through the staging buffer and fits it, the copies ride in the
    // kernels' own submission: one round trip.
    const std::uint64_t kAt = roundUp256(qBytes), vAt = kAt + roundUp256(kvBytes), oAt = vAt + roundUp256(kvBytes);
    const bool inlineStaging = dev_.needsStaging(q_) && dev_.needsStaging(k_) && dev_.needsStaging(v_) &&
                               dev_.needsStaging(o_) && oAt + qBytes <= Device::kStagingBytes;
    if (!inlineStaging) {
        dev_.upload(q_, 0, q, qBytes);
        dev_.upload(k_, 0, k, kvBytes);
        dev_.upload(v_, 0, v, kvBytes);
    }
    uploadTimer.stop();
    kernels_.resetDescriptors();
    VkCommandBuffer cb = dev_.begin();
    if (inlineStaging) {
        dev_.stageIn(cb, q_, 0, q, qBytes, 0);
        dev_.stageIn(cb, k_, 0, k, kvBytes, kAt);
        dev_.stageIn(cb, v_, 0, v, kvBytes, vAt);
    }
    dev_.timestamp(cb, 0);
    const float scale = 1.0f / std::sqrt(float(D));
    for (const Piece& p : pieces) {
        const std::uint64_t qFirst = (p.s0 * T + p.t0) * qRow, qRange = p.ns * p.nt * qRow;
        std::array<Binding, kBindings> b{};
        b[0] = {&q_, qFirst, qRange};
        b[1] = {&k_, p.s0 * kvSample, p.ns * kvSample};
        b[2] = {&v_, p.s0 * kvSample, p.ns * kvSample};
        b[3] = {&o_, qFirst, qRange};
        const std::uint32_t blocks = ceilDiv(p.nt, kQueryRows);
        const AttentionPush pc{std::uint32_t(p.nt), std::uint32_t(S), std::uint32_t(p.t0), std::uint32_t(S - T),
                               std::uint32_t(heads), std::uint32_t(s.kvHeads), blocks, scale};
        kernels_.dispatch(cb, KernelId::Attention, Spec{std::uint32_t(D), bk, 0, 0, 0, 0}, b, &pc, sizeof(pc), blocks,
                          std::uint32_t(p.ns * heads));
    }
    dev_.timestamp(cb, 1);
    if (inlineStaging)
        dev_.stageOut(cb, o_, 0, qBytes, oAt);
    {
        prof::StageTimer t("vk.attention.submit_wait");
        *ms = dev_.submitAndWait(cb);
    }
    prof::add("vk.attention.gpu_timestamps", *ms * 1e-3);
    prof::StageTimer downloadTimer("vk.attention.download");
    if (inlineStaging)
        dev_.readStaged(out, qBytes, oAt);
    else
        dev_.download(o_, 0, out, qBytes);
    return true;
}

} // namespace qs::compute::vk
