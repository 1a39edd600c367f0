#include "core/compute/vulkan/vulkan_backend.hpp"
// Vulkan structs are zero-initialised with only sType named: an intended idiom.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "core/compute/vulkan/vulkan_backend_impl.hpp"
#include "core/compute/hessian_sum.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>
#include <span>
#include <sstream>

namespace qs::compute {

namespace vkb {

namespace {

// Largest |x| that f16 holds; the cooperative-matrix paths convert X to f16.
bool fitsHalfSerial(const float* x, std::size_t count)
{
    // On the bits, so that the loop vectorizes: |x| in [65000, inf] does not fit; NaN (above
    // inf's bits) stays NaN in f16 either way.
    constexpr std::uint32_t lo = 0x477DE800u;  // 65000.0f
    constexpr std::uint32_t span = 0x7F800000u - lo;
    std::uint32_t bad = 0;
    for (std::size_t i = 0; i < count; ++i) {
        std::uint32_t b;
        std::memcpy(&b, x + i, 4);
        bad |= std::uint32_t(((b & 0x7FFFFFFFu) - lo) <= span);
    }
    return bad == 0;
}

} // namespace

// The same over pieces on the pool's threads (a prefill's X is millions of values).
bool fitsHalf(const float* x, std::size_t count)
{
    constexpr std::size_t kPiece = 1 << 18;
    if (count < 4 * kPiece)
        return fitsHalfSerial(x, count);
    std::atomic<bool> fits{true};
    ThreadPool::shared().parallelFor(std::int64_t((count + kPiece - 1) / kPiece), [&](std::int64_t a, std::int64_t b) {
        const std::size_t from = std::size_t(a) * kPiece, to = std::min(std::size_t(b) * kPiece, count);
        if (!fitsHalfSerial(x + from, to - from))
            fits = false;
    });
    return fits;
}

float halfMathXScale(const float* x, std::size_t count)
{
    float maxAbs = 0.0f;
    bool nan = false;
    for (std::size_t i = 0; i < count; ++i) {
        const float a = std::abs(x[i]);
        nan = nan || a != a;
        maxAbs = std::max(maxAbs, a);
    }
    if (nan || !std::isfinite(maxAbs))
        return 0.0f;
    if (maxAbs == 0.0f || (maxAbs >= 1.0f && maxAbs < 32.0f))
        return 1.0f;  // the shader skips the multiply
    int e = 0;
    std::frexp(maxAbs, &e);  // maxAbs = f 2^e, f in [0.5, 1): times 2^(5 - e) lands in [16, 32)
    return std::ldexp(1.0f, std::clamp(5 - e, -120, 120));
}

} // namespace vkb


// ----------------------------------------------------------------------------------- prepare

void VulkanBackend::Impl::upload(VulkanWeights& w)
{
    const WeightMatrix& m = w.matrix();
    const std::uint64_t n = std::uint64_t(rowsOf(m)), k = std::uint64_t(colsOf(m));
    if (k % 32 != 0)
        return;  // the kernels walk K in units of 32: the CPU handles the rest
    auto add = [&](int binding, const void* data, std::uint64_t bytes, std::uint64_t bytesPerRow) {
        DeviceArray a;
        a.binding = binding;
        a.bytes = bytes;
        a.bytesPerRow = bytesPerRow;
        a.buf = dev().createDeviceBuffer(roundUp4(bytes));
        w.arrays.push_back(a);
        dev().upload(w.arrays.back().buf, 0, data, bytes);
    };
    if (auto* h = std::get_if<DenseHalf>(&m)) {
        w.kernel = KernelId::DqHalf;
        w.flags = h->bf16 ? 1u : 0u;
        w.hasGemv = true;
        w.gemv = KernelId::GemvHalf;
        add(2, h->bits.data(), h->bits.size() * 2, k * 2);
    } else if (auto* q = std::get_if<Int8PerChannel>(&m)) {
        w.kernel = KernelId::DqInt8;
        w.hasGemv = true;
        w.gemv = KernelId::GemvInt8;
        add(2, q->q.data(), q->q.size(), k);
        add(3, q->scale.data(), q->scale.size() * 4, 4);
    } else if (auto* g = std::get_if<IntGroupwise>(&m)) {
        w.kernel = KernelId::DqIntG;
        w.bits = std::uint32_t(g->bits);
        w.groupSize = std::uint32_t(g->groupSize);
        w.flags = (g->symmetric ? 0u : 1u) | (g->gIdx.empty() ? 0u : 2u);
        // gemv.comp holds zeros as 2^23 + z (f32) and, in f16, 1024 + 16 z: exact for integer
        // zeros (every quantizer and file format here makes them); others take the portable kernel.
        bool integerZeros = true, smallZeros = true;
        for (const float z : g->zeros) {
            integerZeros = integerZeros && z == std::nearbyint(z) && std::abs(z) < 1e6f;
            smallZeros = smallZeros && z >= 0.0f && z <= 15.0f;
        }
        w.hasGemv = g->bits == 4 && g->gIdx.empty() && g->groupSize % 32 == 0 && integerZeros;
        w.gemvHalfMath = w.hasGemv && smallZeros;
        w.hasGemvMma = g->bits == 4 && g->gIdx.empty() && g->groupSize % 128 == 0 && k % 128 == 0;
        w.gemv = KernelId::GemvInt4;
        const std::uint64_t groups = k / std::uint64_t(g->groupSize);
        add(2, g->codes.data(), g->codes.size() * 4, k * std::uint64_t(g->bits) / 8);
        add(3, g->scales.data(), g->scales.size() * 4, groups * 4);
        if (!g->symmetric)
            add(4, g->zeros.data(), g->zeros.size() * 4, groups * 4);
        if (!g->gIdx.empty())
            add(5, g->gIdx.data(), g->gIdx.size() * 4, 0);
    } else if (auto* f = std::get_if<Nf4>(&m)) {
        w.kernel = KernelId::DqNf4;
        w.hasGemv = true;
        w.gemv = KernelId::GemvNf4;
        add(2, f->codes.data(), f->codes.size() * 4, k / 2);
        if (f->doubleQuant) {
            w.flags = 1;
            add(5, f->absmaxCodes.data(), f->absmaxCodes.size(), k / 64);
            add(3, f->absmaxScale.data(), f->absmaxScale.size() * 4, 0);
            std::vector<float> codebook(f->absmaxCodebook.begin(), f->absmaxCodebook.end());
            codebook.push_back(f->absmaxOffset);
            add(4, codebook.data(), codebook.size() * 4, 0);
        } else {
            add(3, f->absmax.data(), f->absmax.size() * 4, k / 64 * 4);
        }
    } else if (auto* b = std::get_if<GgufBlocks>(&m)) {
        switch (b->type) {
        case GgufBlockType::Q8_0: w.kernel = KernelId::DqQ8_0; break;
        case GgufBlockType::Q4_0: w.kernel = KernelId::DqQ4_0; break;
        case GgufBlockType::Q4_1: w.kernel = KernelId::DqQ4_1; break;
        case GgufBlockType::Q4_K:
            w.kernel = KernelId::DqQ4_K;
            w.hasGemv = true;
            w.gemv = KernelId::GemvQ4K;
            break;
        case GgufBlockType::Q6_K: w.kernel = KernelId::DqQ6_K; break;
        }
        const auto info = ggufBlockInfo(b->type);
        w.rowBytes = std::uint32_t(k / std::uint64_t(info.elements) * std::uint64_t(info.bytes));
        add(2, b->raw.data(), b->raw.size(), w.rowBytes);
    }
    (void)n;
    w.onGpu = true;
}

// ------------------------------------------------------------------------------------- GEMM

bool VulkanBackend::Impl::gemm(const float* x, int mInt, std::span<const VulkanWeights* const> sets, int reps, float* y)
{
    const VulkanWeights& w = *sets[0];
    for (const auto* s : sets)
        if (!s->onGpu || s->kernel != w.kernel || s->rows() != w.rows() || s->cols() != w.cols() || s->flags != w.flags ||
            s->arrays.size() != w.arrays.size() || s->hasGemv != w.hasGemv)
            return false;
    if (reps < 1 || std::uint64_t(reps) * sets.size() > kMaxSetsPerSubmission)
        return false;
    const std::uint64_t m = std::uint64_t(mInt), n = std::uint64_t(w.rows()), k = std::uint64_t(w.cols());
    // Decode sizes: the GEMV; large batches: cooperative matrices where the device has them;
    // the rest and every other device: the portable kernel.
    GemmPath path = GemmPath::Portable;
    if (w.hasGemvMma && gemvTuning.enabled && gemvTuning.mma && gemvMmaAvailable() && m <= kGemvMaxRows && fitsHalf(x, m * k) &&
        gemvMmaWorks())
        path = GemmPath::GemvMma;
    else if (w.hasGemv && gemvTuning.enabled && m <= kGemvMaxRows)
        path = GemmPath::Gemv;
    else if (coopEnabled && dev().coopMatrixF16 && m >= kCoopMinRows && k % 64 == 0 && [&] {
                 // The products of one dequantGemmShared call read the same X: check it once.
                 if (sharedX == x && sharedXFitsHalf >= 0)
                     return sharedXFitsHalf == 1;
                 prof::StageTimer t("vk.gemm.fits_half");
                 const bool fits = fitsHalf(x, m * k);
                 if (sharedX == x)
                     sharedXFitsHalf = fits ? 1 : 0;
                 return fits;
             }())
        path = GemmPath::CoopMatrix;
    // The packed-f16 int4 GEMV where asked for, the device has f16 arithmetic, every set's zeros
    // suit it and X is finite.
    float xScale = 1.0f;
    const bool realGpu = !cpuDevice();
    bool halfGemv = path == GemmPath::Gemv && w.gemv == KernelId::GemvInt4 &&
                    (gemvTuning.halfMath || (gemvTuning.halfMathOnGpu && realGpu)) && dev().info.shaderFloat16;
    for (const auto* s : sets)
        halfGemv = halfGemv && s->gemvHalfMath;
    if (halfGemv) {
        xScale = halfMathXScale(x, m * k);
        halfGemv = xScale > 0.0f;
    }
    lastGemvHalf = halfGemv;
    const bool halfGemvX = halfGemv && gemvTuning.halfMathXOnce && k % 8 == 0;
    const KernelId gemvKernel = halfGemvX ? KernelId::GemvInt4F16X : halfGemv ? KernelId::GemvInt4F16 : w.gemv;
    const std::uint32_t tile = path == GemmPath::CoopMatrix ? 128u
                               : path == GemmPath::Gemv || path == GemmPath::GemvMma ? std::min<std::uint32_t>(8, mInt)
                               : mInt == 1 ? 1u : mt;
    const GemvSplit split = gemvSplit(w.gemv, k, n, tile, halfGemv, halfGemvX);
    lastPath = int(path);
    // Rows of X per dispatch (X and Y bound at row offsets) and weight rows per dispatch.
    const bool halfX = path == GemmPath::CoopMatrix && coopHalfX && k % 8 == 0;
    // dq_intg.comp W_PAIRS: every set 4-bit with small integer zeros (gemvHalfMath), X in pairs.
    bool pairsW = halfX && coopHalfDequant && w.kernel == KernelId::DqIntG;
    for (const auto* s : sets)
        pairsW = pairsW && s->gemvHalfMath;
    lastCoopPairs = pairsW;
    const std::uint64_t gm = rowGranularity(align(), {k * 4, n * 4, halfX ? k * 2 : 0});
    std::uint64_t mChunk = std::min({m, floorTo(maxBinding / (std::max(k, n) * 4), gm), floorTo(65535ull * tile, gm)});
    if (path == GemmPath::GemvMma)  // gemv_xprep.comp's output for the chunk is bound whole
        mChunk = std::min(mChunk, floorTo(maxBinding / (k * 4 + k / 32), gm));
    std::uint64_t nChunk = std::min<std::uint64_t>(n, 65535);
    std::uint64_t gn = 1;
    for (const auto& a : w.arrays) {
        if (a.bytesPerRow) {
            gn = std::lcm(gn, rowGranularity(align(), {a.bytesPerRow}));
            nChunk = std::min(nChunk, maxBinding / a.bytesPerRow);
        } else if (a.bytes > maxBinding) {
            return false;
        }
    }
    if (nChunk < n)
        nChunk = floorTo(nChunk, gn);
    if (mChunk == 0 || nChunk == 0 || std::uint64_t(reps) * ceilDiv(m, mChunk) * ceilDiv(n, nChunk) > kMaxSetsPerSubmission)
        return false;

    prof::StageTimer uploadTimer("vk.gemm.upload_x");
    dev().ensure(xBuf, m * k * 4);
    // gemv_xprep.comp: 4 bytes of f16 hi/lo per element of X, then one float per 128-block.
    const std::uint64_t xhBytes = path == GemmPath::GemvMma ? mChunk * (k * 4 + k / 32) : 0;
    const Spec mmaSpec{std::clamp<std::uint32_t>(gemvTuning.mmaWarps, 1, 8), std::clamp<std::uint32_t>(gemvTuning.mmaTiles, 1, 4),
                       gemvTuning.mmaPrefetch ? 1u : 0u, gemvTuning.mmaMode ? 1u : 0u, gemvTuning.mmaXlo ? 1u : 0u, 0};
    if (xhBytes)
        dev().ensure(xhBuf, xhBytes);
    if (halfGemvX)
        dev().ensure(xhBuf, mChunk * k * 2);
    if (halfX)
        dev().ensure(x16Buf, m * k * 2);
    dev().ensure(yBuf, m * n * 4);
    // Where X and Y go through the staging buffer, both copies ride in the GEMM's own
    // submission: one round trip per product instead of three.
    const std::uint64_t xBytes = m * k * 4, yBytes = m * n * 4;
    const std::uint64_t yStagingOffset = (xBytes + 255) & ~std::uint64_t(255);
    const bool inlineStaging = !timingRun && dev().needsStaging(xBuf) && dev().needsStaging(yBuf) &&
                               yStagingOffset + yBytes <= vk::Device::kStagingBytes;
    const bool haveX = residentX == x && residentXBytes == xBytes && xBuf.size >= xBytes;
    // The packed-f16 GEMV's X made on the host (GemvTuning::halfMathXOnHost) goes up instead of
    // X in f32, once per dequantGemmShared call; xhBuf is rewritten by every other pre-pass.
    const bool hostHalfX = halfGemvX && gemvTuning.halfMathXOnHost && mChunk >= m;
    const bool haveXh = hostHalfX && sharedX == x && residentXh == x && residentXhScale == xScale;
    residentXh = nullptr;
    if (hostHalfX && !haveXh) {
        hostXh.resize(m * k);
        gemvHalfPairs(x, m * k, xScale, hostXh.data());
    }
    const bool sendX = !haveX && !hostHalfX, sendXh = hostHalfX && !haveXh;
    xOnDevice = haveX || !hostHalfX;
    if (!inlineStaging && sendX)
        dev().upload(xBuf, 0, x, xBytes);
    if (!inlineStaging && sendXh)
        dev().upload(xhBuf, 0, hostXh.data(), m * k * 2);
    uploadTimer.stop();
    prof::StageTimer recordTimer("vk.gemm.record");
    kernels().resetDescriptors();
    VkCommandBuffer cb = dev().begin();
    if (inlineStaging && sendX)
        dev().stageIn(cb, xBuf, 0, x, xBytes, 0);
    if (inlineStaging && sendXh)  // in X's place in the staging buffer (half its bytes)
        dev().stageIn(cb, xhBuf, 0, hostXh.data(), m * k * 2, 0);
    dev().timestamp(cb, 0);
    // Repeats (timing only) run back to back in one submission, as the layers of a model do,
    // each after the previous one has finished (a barrier), cycling through the weight sets.
    for (int r = 0; r < reps; ++r) {
    const VulkanWeights& wr = *sets[std::size_t(r) % sets.size()];
    if (r > 0)
        dev().computeBarrier(cb);
    for (std::uint64_t m0 = 0; m0 < m; m0 += mChunk) {
        const std::uint64_t mc = std::min(mChunk, m - m0);
        const std::uint64_t xhChunk = mc * (k * 4 + k / 32);
        if (path == GemmPath::GemvMma) {
            // X to f16 fragments and block sums, then a barrier before the GEMVs read them (and
            // one before, where the previous rows' GEMVs still read the buffer).
            if (m0 > 0)
                dev().computeBarrier(cb);
            std::array<Binding, kBindings> b{};
            b[0] = rows(xBuf, m0, mc, k * 4);
            b[5] = whole(xhBuf, xhChunk);
            const std::uint32_t xp[2] = {std::uint32_t(mc), std::uint32_t(k)};
            kernels().dispatch(cb, KernelId::GemvXprep, Spec{}, b, xp, sizeof(xp), ceilDiv(mc * (k / 128) * 16, 64), 1);
            dev().computeBarrier(cb);
        }
        if (halfGemvX && !hostHalfX) {
            // These rows of X scaled and in the GEMV's f16 pairs, once for every weight row.
            if (m0 > 0)
                dev().computeBarrier(cb);
            recordToHalf(cb, rows(xBuf, m0, mc, k * 4), whole(xhBuf, mc * k * 2), mc * k / 8, xScale, true);
        }
        if (halfX)  // these rows of X to f16 once; every column tile then reads them as they are
            recordToHalf(cb, rows(xBuf, m0, mc, k * 4), rows(x16Buf, m0, mc, k * 2), mc * k / 8, 1.0f, pairsW);
        for (std::uint64_t n0 = 0; n0 < n; n0 += nChunk) {
            const std::uint64_t nc = std::min(nChunk, n - n0);
            std::array<Binding, kBindings> b{};
            b[0] = rows(xBuf, m0, mc, k * 4);
            b[1] = rows(yBuf, m0, mc, n * 4);
            for (const auto& a : wr.arrays)
                b[std::size_t(a.binding)] = a.bytesPerRow ? rows(a.buf, n0, nc, a.bytesPerRow) : whole(a.buf, a.bytes);
            const GemmPush pc{std::uint32_t(mc), std::uint32_t(n), std::uint32_t(k), std::uint32_t(n0),
                              w.bits, w.groupSize, w.flags, w.rowBytes, std::uint32_t(nc), xScale};
            switch (path) {
            case GemmPath::Gemv:
                if (halfGemvX)
                    b[0] = whole(xhBuf, mc * k * 2);
                kernels().dispatch(cb, gemvKernel, gemvSpec(split, tile), b, &pc, sizeof(pc),
                                   ceilDiv(nc, split.workgroup / split.lanes * split.rows), ceilDiv(mc, tile));
                break;
            case GemmPath::GemvMma:
                b[5] = whole(xhBuf, xhChunk);
                kernels().dispatch(cb, KernelId::GemvMma, mmaSpec, b, &pc, sizeof(pc), ceilDiv(nc, 16 * mmaSpec[1]),
                                   ceilDiv(mc, 8));
                break;
            case GemmPath::CoopMatrix: {
                GemmPush pcx = pc;
                if (halfX) {
                    b[0] = rows(x16Buf, m0, mc, k * 2);
                    pcx.flags |= 0x80000000u;  // gemm_common.glsl kXHalf
                }
                // Auto: Wide for f16/bf16 and int8 weights from 512 rows of X (measured on the
                // H100, docs/benchmarks.md, session 7: +4-18% over Default and Split; group-wise
                // int4 loses 20-27% there); Pipe's two buffers need 48 KB of shared memory.
                CoopLayout layout = coopLayout;
                if (layout == CoopLayout::Auto)
                    layout = (w.kernel == KernelId::DqHalf || w.kernel == KernelId::DqInt8) && m >= 512 ? CoopLayout::Wide
                                                                                                     : CoopLayout::Default;
                if (layout == CoopLayout::Pipe && dev().info.maxSharedMemory < 49152)
                    layout = CoopLayout::Default;
                const KernelId cm = coopTwin(w.kernel, layout);
                const CoopLayout built = coopLayoutOf(cm);  // the default where the format has no such layout
                const std::uint32_t nTiles = ceilDiv(nc, built == CoopLayout::Big ? 256 : 128);
                const std::uint32_t mTiles = ceilDiv(mc, built == CoopLayout::Split ? 64 : 128);
                const bool mFirst = coopMFirst && nTiles <= 65535;
                if (mFirst)
                    pcx.flags |= 0x40000000u;  // gemm_common.glsl kMFirst
                // Spec 2: X's type compiled in (gemm_common.glsl X_MODE); 3: the inner loop's order;
                // 4: int4 dequantized in packed f16 against pair-ordered X (dq_intg.comp W_PAIRS).
                kernels().dispatch(cb, cm, Spec{128, 4, halfX ? 1u : 2u, coopOrder, pairsW ? 1u : 0u, 0}, b, &pcx, sizeof(pcx),
                                   mFirst ? mTiles : nTiles, mFirst ? nTiles : mTiles);
                break;
            }
            case GemmPath::Portable:
                kernels().dispatch(cb, w.kernel, Spec{wg, tile, 0, 0, 0, 0}, b, &pc, sizeof(pc), std::uint32_t(nc), ceilDiv(mc, tile));
                break;
            }
        }
    }
    }
    dev().timestamp(cb, 1);
    if (inlineStaging)
        dev().stageOut(cb, yBuf, 0, yBytes, yStagingOffset);
    recordTimer.stop();
    {
        prof::StageTimer t("vk.gemm.submit_wait");
        lastMs = dev().submitAndWait(cb) / double(reps);
    }
    prof::add("vk.gemm.gpu_timestamps", lastMs * double(reps) * 1e-3);
    if (prof::enabled()) {
        // The same split by path, to tell slow kernels from many small products.
        static const char* const kPathStage[] = {"vk.gemm.gpu.portable", "vk.gemm.gpu.gemv", "vk.gemm.gpu.coopmat",
                                                 "vk.gemm.gpu.gemv_mma"};
        prof::add(kPathStage[int(path)], lastMs * double(reps) * 1e-3);
    }
    prof::StageTimer downloadTimer("vk.gemm.download_y");
    if (inlineStaging)
        dev().readStaged(y, yBytes, yStagingOffset);
    else
        dev().download(yBuf, 0, y, yBytes);
    if (hostHalfX && sharedX == x) {  // the next product of this X finds its pairs in xhBuf
        residentXh = x;
        residentXhScale = xScale;
    }
    return true;
}

GemvSplit VulkanBackend::Impl::gemvSplit(KernelId gemv, std::uint64_t k, std::uint64_t n, std::uint32_t tile, bool halfInt4,
                                         bool xOnce) const
{
    const std::uint32_t tunedLanes = gemvTuning.lanes ? gemvTuning.lanes : !cpuDevice() ? gemvAutoLanes(gemv, k, halfInt4) : 0u;
    const bool lanesOk = tunedLanes >= gemvLanes() && (tunedLanes & (tunedLanes - 1)) == 0 && tunedLanes <= gemvTuning.workgroup;
    GemvSplit s;
    s.lanes = lanesOk ? tunedLanes : gemvLanes();
    // gemv.comp declares WG * MT * ROWS floats of shared memory (its fallback reduction).
    // Rows per thread: tuned, or by format and shape (gemvAutoRows).
    s.workgroup = std::max(gemvTuning.workgroup, s.lanes);
    s.rows = gemvTuning.rows ? gemvTuning.rows : gemvAutoRows(halfInt4, xOnce, n);
    const std::uint32_t sharedFloats = engine->device->info.maxSharedMemory / 4;
    while (s.workgroup * tile * s.rows > sharedFloats && s.rows > 1)
        --s.rows;
    while (s.workgroup * tile * s.rows > sharedFloats && s.workgroup > s.lanes)
        s.workgroup /= 2;
    return s;
}

Spec VulkanBackend::Impl::gemvSpec(const GemvSplit& s, std::uint32_t tile) const
{
    return Spec{s.workgroup, tile, s.lanes, useSubgroupAdd() ? 1u : 0u, s.rows, gemvTuning.prefetch ? 1u : 0u};
}

void VulkanBackend::Impl::recordToHalf(VkCommandBuffer cb, Binding src, Binding dst, std::uint64_t count8, float scale, bool gemvPairs)
{
    std::array<Binding, kBindings> b{};
    b[0] = src;
    b[1] = dst;
    const std::uint64_t groups = ceilDiv(count8, 256);
    const std::uint32_t gx = std::uint32_t(std::min<std::uint64_t>(groups, 65535));
    const std::uint32_t pc[2] = {std::uint32_t(count8), std::bit_cast<std::uint32_t>(scale)};
    kernels().dispatch(cb, KernelId::ToHalf, Spec{gemvPairs ? 1u : 0u, 0, 0, 0, 0, 0}, b, pc, sizeof(pc), gx, ceilDiv(groups, gx));
    dev().computeBarrier(cb);
}

bool VulkanBackend::Impl::w8a8(const Int8Activations& x, std::span<const VulkanWeights* const> sets, int reps, float* y)
{
    const VulkanWeights& w = *sets[0];
    for (const auto* s : sets)
        if (!s->onGpu || s->kernel != KernelId::DqInt8 || s->rows() != w.rows() || s->cols() != w.cols())
            return false;
    if (reps < 1 || std::uint64_t(reps) * sets.size() > kMaxSetsPerSubmission)
        return false;
    const std::uint64_t m = std::uint64_t(x.m), n = std::uint64_t(w.rows()), k = std::uint64_t(w.cols());
    const bool perToken = x.scale.size() != 1;
    // Decode sizes (up to kGemvMaxRows rows, K a multiple of 16): gemv.comp FMT_W8A8.
    const bool gemv = gemvTuning.enabled && m <= std::uint64_t(kGemvMaxRows) && k % 16 == 0;
    const std::uint32_t tile = gemv ? std::min<std::uint32_t>(8, std::uint32_t(m)) : m == 1 ? 1u : mt;
    const GemvSplit split = gemvSplit(KernelId::GemvW8a8, k, n, tile, false, false);
    // The int8 tensor cores from kCoopMinRows rows on, where K fills whole 128-byte (64 in Big)
    // steps; the portable kernel otherwise. Layouts: w8a8.comp's default, Big and Wide. Auto:
    // Wide (4 subgroups, two workgroups per SM) where its 128 x 128 tiles give every SM two,
    // else the default's 8 subgroups (measured on the H100: docs/benchmarks.md, session 7).
    const std::uint64_t tiles = ceilDiv(m, 128) * ceilDiv(n, 128), sms = dev().info.computeUnits;
    const bool big = coopLayout == CoopLayout::Big;
    const bool wide = coopLayout == CoopLayout::Wide || (coopLayout == CoopLayout::Auto && (sms == 0 || tiles >= 2 * sms));
    const bool coop = coopEnabled && dev().coopMatrixInt8 && m >= std::uint64_t(kCoopMinRows) && k % (big ? 64 : 128) == 0;
    const KernelId kernel = gemv ? KernelId::GemvW8a8 : !coop ? KernelId::W8a8 : big ? KernelId::CmbW8a8 : wide ? KernelId::CmwW8a8 : KernelId::CmW8a8;
    lastW8a8 = gemv ? "gemv" : !coop ? "portable" : big ? "coopmat big" : wide ? "coopmat wide" : "coopmat";
    const std::uint64_t gm = rowGranularity(align(), {k, n * 4, perToken ? 4u : 0u});
    const std::uint64_t mChunk = std::min({m, floorTo(maxBinding / (std::max(k, n * 4)), gm), floorTo(65535ull * tile, gm)});
    std::uint64_t nChunk = std::min<std::uint64_t>({n, 65535, maxBinding / k});
    if (nChunk < n)
        nChunk = floorTo(nChunk, rowGranularity(align(), {k, 4}));
    if (mChunk == 0 || nChunk == 0 || std::uint64_t(reps) * ceilDiv(m, mChunk) * ceilDiv(n, nChunk) > kMaxSetsPerSubmission)
        return false;
    dev().ensure(xBuf, m * k);
    dev().ensure(yBuf, m * n * 4);
    dev().ensure(auxBuf, x.scale.size() * 4);
    dev().upload(xBuf, 0, x.q.data(), m * k);
    dev().upload(auxBuf, 0, x.scale.data(), x.scale.size() * 4);
    kernels().resetDescriptors();
    VkCommandBuffer cb = dev().begin();
    dev().timestamp(cb, 0);
    // Repeats (timing only) back to back in one submission, a barrier between them, cycling
    // through the weight sets (as gemm).
    for (int r = 0; r < reps; ++r) {
    const VulkanWeights& wr = *sets[std::size_t(r) % sets.size()];
    if (r > 0)
        dev().computeBarrier(cb);
    for (std::uint64_t m0 = 0; m0 < m; m0 += mChunk) {
        const std::uint64_t mc = std::min(mChunk, m - m0);
        for (std::uint64_t n0 = 0; n0 < n; n0 += nChunk) {
            const std::uint64_t nc = std::min(nChunk, n - n0);
            std::array<Binding, kBindings> b{};
            b[0] = rows(xBuf, m0, mc, k);
            b[1] = rows(yBuf, m0, mc, n * 4);
            b[2] = rows(wr.arrays[0].buf, n0, nc, k);
            b[3] = rows(wr.arrays[1].buf, n0, nc, 4);
            b[4] = perToken ? rows(auxBuf, m0, mc, 4) : whole(auxBuf, 4);
            GemmPush pc{std::uint32_t(mc), std::uint32_t(n), std::uint32_t(k), std::uint32_t(n0), 0, 0,
                        perToken ? 0u : 1u, 0, std::uint32_t(nc)};
            if (gemv) {
                kernels().dispatch(cb, kernel, gemvSpec(split, tile), b, &pc, sizeof(pc),
                                   ceilDiv(nc, split.workgroup / split.lanes * split.rows), ceilDiv(mc, tile));
            } else if (coop) {  // row tiles of X fastest (w8a8.comp), so a tile of W is read from DRAM about once
                pc.flags |= 0x40000000u;
                kernels().dispatch(cb, kernel, Spec{}, b, &pc, sizeof(pc), ceilDiv(mc, 128), ceilDiv(nc, big ? 256 : 128));
            } else {
                kernels().dispatch(cb, kernel, Spec{wg, tile, 0, 0, 0, 0}, b, &pc, sizeof(pc), std::uint32_t(nc), ceilDiv(mc, tile));
            }
        }
    }
    }
    dev().timestamp(cb, 1);
    lastMs = dev().submitAndWait(cb) / double(reps);
    dev().download(yBuf, 0, y, m * n * 4);
    return true;
}

// ----------------------------------------------------------------------------- public face

VulkanBackend::VulkanBackend() : d_(std::make_unique<Impl>()) {}
VulkanBackend::~VulkanBackend() = default;

std::unique_ptr<VulkanBackend> VulkanBackend::create(std::string* whyNot)
{
    try {
        auto engine = std::make_shared<Engine>();
        engine->instance = std::make_unique<Instance>();
        std::vector<VulkanDeviceInfo> infos;
        for (int i = 0; i < int(engine->instance->physicalDevices.size()); ++i)
            infos.push_back(engine->instance->describe(i));
        std::string why;
        const int index = chooseDevice(infos, &why);
        if (index < 0) {
            if (whyNot)
                *whyNot = why;
            return nullptr;
        }
        engine->device = std::make_unique<Device>(*engine->instance, index);
        engine->kernels = std::make_unique<Kernels>(*engine->device);
        std::unique_ptr<VulkanBackend> b(new VulkanBackend());
        b->d_->engine = std::move(engine);
        b->d_->maxBinding = floorTo(b->d_->dev().info.maxStorageBufferRange, 16);
        b->d_->attention = std::make_unique<AttentionRunner>(b->d_->dev(), b->d_->kernels());
        b->d_->awqClip = std::make_unique<AwqClipRunner>(b->d_->dev(), b->d_->kernels());
        b->d_->f32 = std::make_unique<GemmF32>(b->d_->engine);
        b->d_->f32->setMaxBinding(b->d_->maxBinding);
        spdlog::info("vulkan: using {} ({})", b->d_->dev().info.name, b->d_->dev().info.type);
        return b;
    } catch (const std::exception& e) {
        if (whyNot)
            *whyNot = std::string("Vulkan unavailable: ") + e.what();
        return nullptr;
    }
}

std::string VulkanBackend::name() const { return "vulkan: " + d_->dev().info.name; }
const VulkanDeviceInfo& VulkanBackend::device() const { return d_->dev().info; }
bool VulkanBackend::isCpuDevice() const { return d_->cpuDevice(); }
bool VulkanBackend::lastRanOnGpu() const { return d_->lastGpu; }
double VulkanBackend::lastKernelMs() const { return d_->lastMs; }

void VulkanBackend::setGemmTiling(std::uint32_t workgroup, std::uint32_t rowsPerWorkgroup)
{
    if (workgroup < 32 || workgroup > 1024 || (workgroup & (workgroup - 1)) || rowsPerWorkgroup < 1 || rowsPerWorkgroup > 16)
        throw ComputeError("setGemmTiling: workgroup must be a power of two in 32..1024, rows 1..16");
    d_->wg = std::min(workgroup, d_->dev().info.maxWorkgroupInvocations);
    d_->mt = rowsPerWorkgroup;
}

void VulkanBackend::setMaxBindingBytesForTesting(std::uint64_t bytes)
{
    d_->maxBinding = std::min<std::uint64_t>(floorTo(bytes, 16), d_->dev().info.maxStorageBufferRange);
    d_->f32->setMaxBinding(d_->maxBinding);
}

void VulkanBackend::setForceStagingForTesting(bool on) { d_->dev().forceStaging = on; }
void VulkanBackend::setAwqClipQuotientSkewForTesting(int ulps) { d_->awqClip->setQuotientSkew(ulps); }

void VulkanBackend::setGemvTuning(const GemvTuning& t)
{
    if (t.workgroup < 32 || t.workgroup > 1024 || (t.workgroup & (t.workgroup - 1)) || t.rows > 16)
        throw ComputeError("setGemvTuning: workgroup must be a power of two in 32..1024, rows 0 (auto) or 1..16");
    if (t.lanes != 0 && (t.lanes > t.workgroup || (t.lanes & (t.lanes - 1))))
        throw ComputeError("setGemvTuning: lanes must be 0 (one subgroup) or a power of two up to the workgroup");
    if (t.mmaWarps < 1 || t.mmaWarps > 8 || t.mmaTiles < 1 || t.mmaTiles > 4 || t.mmaMode > 1)
        throw ComputeError("setGemvTuning: mmaWarps 1..8, mmaTiles 1..4, mmaMode 0 or 1");
    d_->gemvTuning = t;
    d_->gemvTuning.workgroup = std::min(t.workgroup, d_->dev().info.maxWorkgroupInvocations);
}

void VulkanBackend::setGemmF32Tile(int mode)
{
    if (mode < 0 || mode > 2)
        throw ComputeError("setGemmF32Tile: mode must be 0 (automatic), 1 (64x64) or 2 (128x128)");
    d_->f32->setTileMode(mode);
}

void VulkanBackend::setCooperativeMatrix(bool on) { d_->coopEnabled = on; }
void VulkanBackend::setCooperativeMatrixHalfX(bool on) { d_->coopHalfX = on; }
void VulkanBackend::setCooperativeMatrixHalfDequant(bool on) { d_->coopHalfDequant = on; }
void VulkanBackend::setCooperativeMatrixLayout(CoopLayout layout) { d_->coopLayout = layout; }
void VulkanBackend::setCooperativeMatrixRowTilesFirst(bool on) { d_->coopMFirst = on; }
void VulkanBackend::setCooperativeMatrixLoadOrder(std::uint32_t order) { d_->coopOrder = std::min<std::uint32_t>(order, 2); }
void VulkanBackend::setCooperativeMatrixHessian(bool on) { d_->coopHessian = on; }
void VulkanBackend::setHessianF16(bool on, std::uint32_t columnsPerSubgroup)
{
    if (columnsPerSubgroup != 32 && columnsPerSubgroup != 64)
        throw ComputeError("setHessianF16: columns per subgroup must be 32 or 64");
    d_->hessianF16 = on;
    d_->hessianF16Wn = columnsPerSubgroup;
}
bool VulkanBackend::hessianF16Available() const { return d_->dev().coopMatrixF16; }
bool VulkanBackend::hasTensorCoreGemv() const { return d_->gemvMmaAvailable() && d_->gemvMmaWorks(); }
bool VulkanBackend::hasCooperativeMatrix() const { return d_->dev().coopMatrixF16; }
bool VulkanBackend::hasInt8CooperativeMatrix() const { return d_->dev().coopMatrixInt8; }
GemmPath VulkanBackend::lastGemmPath() const { return GemmPath(d_->lastPath); }
bool VulkanBackend::lastGemvHalfMath() const { return d_->lastGemvHalf; }
std::string VulkanBackend::lastW8a8Path() const { return d_->lastW8a8; }
bool VulkanBackend::lastCoopHalfDequant() const { return d_->lastCoopPairs; }

std::shared_ptr<PreparedWeights> VulkanBackend::prepare(std::shared_ptr<const WeightMatrix> w)
{
    if (!w)
        throw ComputeError("prepare: null weights");
    validate(*w);
    auto p = std::make_shared<VulkanWeights>(std::move(w), d_->engine);
    if (!d_->broken) {
        try {
            d_->upload(*p);
        } catch (const VkError& e) {
            spdlog::warn("vulkan: uploading {} weights failed: {}; they stay on the CPU", formatName(p->matrix()), e.what());
            for (auto& a : p->arrays)
                d_->dev().destroy(a.buf);
            p->arrays.clear();
            p->onGpu = false;
        }
    }
    return p;
}

void VulkanBackend::dequantGemmShared(const float* x, int m, std::span<const PreparedWeights* const> ws,
                                      std::span<float* const> ys)
{
    if (ws.size() != ys.size())
        throw ComputeError("dequantGemmShared: " + std::to_string(ws.size()) + " weights for " + std::to_string(ys.size()) +
                           " outputs");
    for (std::size_t i = 0; i < ws.size(); ++i) {
        if (!ws[i])
            throw ComputeError("dequantGemmShared: null weights");
        checkGemmArgs(x, m, *ws[i], ys[i]);
        if (ws[i]->cols() != ws[0]->cols())
            throw ComputeError("dequantGemmShared: the weights differ in input features");
    }
    // X goes up with the first product that runs on the GPU; the others find it in xBuf (or in
    // xhBuf, as the GEMV's host-made f16 pairs).
    d_->residentX = nullptr;
    d_->residentXh = nullptr;
    d_->residentXBytes = 0;
    d_->sharedX = x;
    d_->sharedXFitsHalf = -1;
    try {
        for (std::size_t i = 0; i < ws.size(); ++i) {
            const auto* vw = dynamic_cast<const VulkanWeights*>(ws[i]);
            d_->guarded("dequantGemm", [&] {
                const VulkanWeights* one[1] = {vw};
                if (!vw || !d_->gemm(x, m, one, 1, ys[i]))
                    return false;
                if (d_->xOnDevice) {
                    d_->residentX = x;
                    d_->residentXBytes = std::uint64_t(m) * std::uint64_t(ws[i]->cols()) * 4;
                }
                return true;
            }, [&] { d_->cpu.dequantGemm(x, m, *ws[i], ys[i]); });
        }
    } catch (...) {
        d_->residentX = nullptr;
        d_->residentXh = nullptr;
        d_->sharedX = nullptr;
        throw;
    }
    d_->residentX = nullptr;
    d_->residentXh = nullptr;
    d_->residentXBytes = 0;
    d_->sharedX = nullptr;
}

void VulkanBackend::dequantGemm(const float* x, int m, const PreparedWeights& w, float* y)
{
    checkGemmArgs(x, m, w, y);
    const auto* vw = dynamic_cast<const VulkanWeights*>(&w);
    d_->guarded("dequantGemm", [&] {
        const VulkanWeights* one[1] = {vw};
        return vw && d_->gemm(x, m, one, 1, y);
    }, [&] { d_->cpu.dequantGemm(x, m, w, y); });
}

namespace {
// The timing calls' weight sets as this backend's (each checked by `check`), or none where one
// is not on it.
template <typename Check>
std::vector<const VulkanWeights*> deviceSets(const char* op, const std::vector<const PreparedWeights*>& sets, Check check)
{
    std::vector<const VulkanWeights*> vw;
    for (const auto* p : sets) {
        if (!p)
            throw ComputeError(std::string(op) + ": null weights");
        check(*p);
        const auto* v = dynamic_cast<const VulkanWeights*>(p);
        if (!v)
            return {};
        vw.push_back(v);
    }
    return vw;
}
} // namespace

double VulkanBackend::timeDequantGemm(const float* x, int m, const std::vector<const PreparedWeights*>& sets, int reps, float* y)
{
    const auto vw = deviceSets("timeDequantGemm", sets, [&](const PreparedWeights& p) { checkGemmArgs(x, m, p, y); });
    if (vw.empty() || d_->broken)
        return -1;
    try {
        d_->timingRun = true;
        const bool ran = d_->gemm(x, m, vw, reps, y);
        d_->timingRun = false;
        if (!ran)
            return -1;
    } catch (const VkError& e) {
        d_->timingRun = false;
        spdlog::warn("vulkan: timeDequantGemm failed: {}", e.what());
        return -1;
    }
    d_->lastGpu = true;
    return d_->lastMs;
}

void VulkanBackend::w8a8Gemm(const Int8Activations& x, const PreparedWeights& w, float* y)
{
    checkW8a8Args(x, w, y);
    const auto* vw = dynamic_cast<const VulkanWeights*>(&w);
    d_->guarded("w8a8Gemm", [&] {
        const VulkanWeights* one[1] = {vw};
        return vw && d_->w8a8(x, one, 1, y);
    }, [&] { d_->cpu.w8a8Gemm(x, w, y); });
}

double VulkanBackend::timeW8a8Gemm(const Int8Activations& x, const std::vector<const PreparedWeights*>& sets, int reps, float* y)
{
    const auto vw = deviceSets("timeW8a8Gemm", sets, [&](const PreparedWeights& p) { checkW8a8Args(x, p, y); });
    if (vw.empty() || d_->broken)
        return -1;
    try {
        if (!d_->w8a8(x, vw, reps, y))
            return -1;
    } catch (const VkError& e) {
        spdlog::warn("vulkan: timeW8a8Gemm failed: {}", e.what());
        return -1;
    }
    d_->lastGpu = true;
    return d_->lastMs;
}


void VulkanBackend::attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out)
{
    checkAttentionArgs(s, q, k, v, out);
    d_->guarded("attention", [&] {
        std::string why;
        if (d_->attention->run(s, q, k, v, out, d_->maxBinding, &d_->lastMs, &why))
            return true;
        d_->attention->logFallback(why);
        return false;
    }, [&] { d_->cpu.attention(s, q, k, v, out); });
}

void VulkanBackend::awqClipErrors(const AwqClipProblem& p, float* errors, float* orgMax)
{
    checkAwqClipArgs(p, errors, orgMax);
    d_->guarded("awqClipErrors", [&] {
        std::string why;
        if (d_->awqClip->run(p, errors, orgMax, d_->maxBinding, &d_->lastMs, &why))
            return true;
        d_->awqClip->logFallback(why);
        return false;
    }, [&] { d_->cpu.awqClipErrors(p, errors, orgMax); });
}

// ------------------------------------------------------------------------------ f32 matrices

std::unique_ptr<F32Matrix> VulkanBackend::makeF32Matrix(int rows, int cols)
{
    if (rows < 1 || cols < 1)
        throw ComputeError("makeF32Matrix: bad shape " + std::to_string(rows) + "x" + std::to_string(cols));
    if (!d_->broken) {
        try {
            return std::make_unique<DeviceF32Matrix>(rows, cols, d_->engine);
        } catch (const VkError& e) {
            spdlog::warn("vulkan: no device memory for a {}x{} f32 matrix ({}); it stays on the host", rows, cols, e.what());
        }
    }
    return std::make_unique<HostF32Matrix>(rows, cols);
}

void VulkanBackend::writeF32(F32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld)
{
    checkF32Copy("writeF32", m, row, col, rows, cols, src, ld);
    if (auto* dm = dynamic_cast<DeviceF32Matrix*>(&m)) {
        try {
            d_->f32->write(*dm, row, col, rows, cols, src, ld);
        } catch (const VkError& e) {
            throw ComputeError(std::string("vulkan: writing an f32 matrix failed: ") + e.what());
        }
        return;
    }
    d_->cpu.writeF32(m, row, col, rows, cols, src, ld);
}

void VulkanBackend::readF32(const F32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld)
{
    checkF32Copy("readF32", m, row, col, rows, cols, dst, ld);
    if (auto* dm = dynamic_cast<const DeviceF32Matrix*>(&m)) {
        try {
            d_->f32->read(*dm, row, col, rows, cols, dst, ld);
        } catch (const VkError& e) {
            throw ComputeError(std::string("vulkan: reading an f32 matrix failed: ") + e.what());
        }
        return;
    }
    d_->cpu.readF32(m, row, col, rows, cols, dst, ld);
}

void VulkanBackend::gemmF32(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc)
{
    checkGemmF32Args(a, transA, b, transB, c, ldc);
    d_->guarded("gemmF32", [&] { return d_->f32->gemm(a, transA, b, transB, c, ldc, d_->lastMs); }, [&] {
        // The blocks to the host (a matrix that stayed there, a shape the kernel cannot split, or
        // a failure), then the CPU's product.
        std::vector<float> ha(std::size_t(a.rows) * std::size_t(a.cols)), hb(std::size_t(b.rows) * std::size_t(b.cols));
        readF32(*a.matrix, a.row, a.col, a.rows, a.cols, ha.data(), a.cols);
        readF32(*b.matrix, b.row, b.col, b.rows, b.cols, hb.data(), b.cols);
        gemmF32Host(ha.data(), a.cols, transA, hb.data(), b.cols, transB, transA ? a.cols : a.rows, transB ? b.rows : b.cols,
                    transA ? a.rows : a.cols, c, ldc);
    });
}

double VulkanBackend::measureCopyGBs(std::size_t bytes, int reps)
{
    auto& dev = d_->dev();
    bytes = floorTo(bytes, 16);
    Buffer src = dev.createDeviceBuffer(bytes), dst = dev.createDeviceBuffer(bytes);
    std::vector<double> times;
    try {
        const std::uint64_t perDispatch = floorTo(d_->maxBinding, 256);
        for (int r = 0; r < reps + 2; ++r) {
            d_->kernels().resetDescriptors();
            VkCommandBuffer cb = dev.begin();
            if (r == 0) {
                dev.fn.vkCmdFillBuffer(cb, src.buffer, 0, bytes, 0x3F9E0419u);  // non-zero data
                dev.computeBarrier(cb);
            }
            dev.timestamp(cb, 0);
            for (std::uint64_t off = 0; off < bytes; off += perDispatch) {
                const std::uint64_t n = std::min<std::uint64_t>(perDispatch, bytes - off);
                std::array<Binding, kBindings> b{};
                b[0] = {&src, off, n};
                b[1] = {&dst, off, n};
                const std::uint32_t count = std::uint32_t(n / 16);
                d_->kernels().dispatch(cb, KernelId::Copy, Spec{}, b, &count, 4, std::min<std::uint32_t>(ceilDiv(count, 256), 65535), 1);
            }
            dev.timestamp(cb, 1);
            const double ms = dev.submitAndWait(cb);
            if (r >= 2)  // two warm-ups
                times.push_back(ms);
        }
    } catch (...) {
        dev.destroy(src);
        dev.destroy(dst);
        throw;
    }
    dev.destroy(src);
    dev.destroy(dst);
    std::sort(times.begin(), times.end());
    return times.empty() ? 0.0 : 2.0 * double(bytes) / (times[times.size() / 2] * 1e-3) / 1e9;
}

double VulkanBackend::measureMmaTflops(int reps, std::uint32_t sharedWn, std::uint32_t sharedStride, std::uint32_t mode,
                                       std::uint32_t threads, bool int8)
{
    auto& dev = d_->dev();
    if (!dev.coopMatrixF16 || (int8 && !dev.coopMatrixInt8))
        return 0.0;
    sharedWn = int8 ? 0 : sharedWn;
    // Enough workgroups of 8 subgroups to fill every SM several times over; each subgroup does
    // 8 products of 16x16x16 per iteration (from registers), or 4 x 4 x sharedWn / 16 (fed from
    // shared memory, mma_shared_peak.comp).
    threads = sharedWn && threads == 128 ? 128u : 256u;
    const std::uint32_t groups = 4096 * (256 / threads), iters = sharedWn ? 2048 : 8192;
    const double perIter = sharedWn ? 4.0 * 4.0 * (sharedWn / 16) : 8.0;
    Buffer y = dev.createDeviceBuffer(std::uint64_t(groups) * 256 * 4);
    std::vector<double> times;
    try {
        for (int r = 0; r < reps + 2; ++r) {
            d_->kernels().resetDescriptors();
            VkCommandBuffer cb = dev.begin();
            dev.timestamp(cb, 0);
            std::array<Binding, kBindings> b{};
            b[1] = {&y, 0, 0};
            if (sharedWn)
                d_->kernels().dispatch(cb, KernelId::MmaSharedPeak, Spec{sharedWn, std::clamp<std::uint32_t>(sharedStride, 8, 16), std::min<std::uint32_t>(mode, 2), threads, 0, 0}, b, &iters, 4, groups, 1);
            else
                d_->kernels().dispatch(cb, int8 ? KernelId::MmaPeakInt8 : KernelId::MmaPeak, Spec{}, b, &iters, 4, groups, 1);
            dev.timestamp(cb, 1);
            const double ms = dev.submitAndWait(cb);
            if (r >= 2)  // two warm-ups (clocks ramp up)
                times.push_back(ms);
        }
    } catch (...) {
        dev.destroy(y);
        throw;
    }
    dev.destroy(y);
    std::sort(times.begin(), times.end());
    const double flops = double(groups) * (threads / 32) * double(iters) * perIter * 2.0 * 16 * 16 * (int8 ? 32 : 16);
    return times.empty() ? 0.0 : flops / (times[times.size() / 2] * 1e-3) / 1e12;
}

// ------------------------------------------------------------------------------ listing

VulkanDeviceList listVulkanDevices()
{
    VulkanDeviceList out;
    try {
        Instance inst;
        for (int i = 0; i < int(inst.physicalDevices.size()); ++i)
            out.devices.push_back(inst.describe(i));
        std::string why;
        const int chosen = chooseDevice(out.devices, &why);
        if (chosen >= 0)
            out.devices[std::size_t(chosen)].selected = true;
        else
            out.error = why;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

std::string describeDevice(const VulkanDeviceInfo& d)
{
    std::ostringstream s;
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    s << (d.selected ? "* " : "  ") << "[" << d.index << "] " << d.name << " (" << d.type << ", Vulkan "
      << VK_API_VERSION_MAJOR(d.apiVersion) << "." << VK_API_VERSION_MINOR(d.apiVersion) << "." << VK_API_VERSION_PATCH(d.apiVersion)
      << ", " << d.driver << ")\n";
    s << "    subgroup " << d.subgroupSize << " (arithmetic " << yes(d.subgroupArithmetic) << "), shaderFloat16 "
      << yes(d.shaderFloat16) << ", shaderInt8 " << yes(d.shaderInt8) << ", 8-bit storage " << yes(d.storage8Bit)
      << ", 16-bit storage " << yes(d.storage16Bit) << "\n";
    s << "    cooperative matrix: NV " << yes(d.nvCooperativeMatrix) << ", KHR " << yes(d.khrCooperativeMatrix);
    for (const auto& shape : d.cooperativeMatrixShapes)
        s << "; " << shape;
    s << "\n    max storage binding " << d.maxStorageBufferRange << " B, workgroup " << d.maxWorkgroupInvocations
      << " invocations, shared " << d.maxSharedMemory << " B";
    if (d.computeUnits)
        s << ", " << d.computeUnits << " compute units";
    s << "\n    heaps:";
    for (const auto& h : d.heaps)
        s << " " << (h.size >> 20) << " MiB" << (h.deviceLocal ? " (device-local)" : "");
    s << "\n";
    return s.str();
}

std::unique_ptr<Backend> makeVulkanBackend(std::string* whyNot) { return VulkanBackend::create(whyNot); }

CoopLayout coopLayoutFromName(const std::string& name)
{
    if (name == "auto")
        return CoopLayout::Auto;
    if (name == "default")
        return CoopLayout::Default;
    if (name == "wide")
        return CoopLayout::Wide;
    if (name == "big")
        return CoopLayout::Big;
    if (name == "pipe")
        return CoopLayout::Pipe;
    if (name == "split")
        return CoopLayout::Split;
    throw std::invalid_argument("unknown cooperative-matrix layout '" + name + "' (auto, default, wide, big, pipe or split)");
}

const char* gemmPathName(GemmPath p)
{
    switch (p) {
    case GemmPath::Portable: return "portable";
    case GemmPath::Gemv: return "gemv";
    case GemmPath::GemvMma: return "gemv-mma";
    case GemmPath::CoopMatrix: return "coopmat";
    }
    return "?";
}

} // namespace qs::compute
