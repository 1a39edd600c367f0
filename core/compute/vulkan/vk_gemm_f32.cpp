#include "core/compute/vulkan/vk_gemm_f32.hpp"

#include "core/util/stage_timer.hpp"

#include <algorithm>
#include <cstring>

namespace qs::compute::vk {

namespace {

std::uint64_t ceilDiv(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

struct GemmF32Push {
    std::uint32_t m, n, k, offA, lda, offB, ldb, offC, ldc, flags;
};

// Binds `count` floats of buf from float `first` on: the offset goes down to the device's
// alignment and the shader adds the rest (*offset, in floats).
Binding floats(const Buffer& buf, std::uint64_t first, std::uint64_t count, std::uint64_t align, std::uint32_t* offset)
{
    const std::uint64_t base = first * 4 / align * align;
    *offset = std::uint32_t(first - base / 4);
    const std::uint64_t bytes = (std::uint64_t(*offset) + count) * 4;
    return {&buf, base, std::min(bytes, buf.size - base)};
}

} // namespace

DeviceF32Matrix::DeviceF32Matrix(int rows, int cols, std::shared_ptr<Engine> engine)
    : F32Matrix(rows, cols), engine_(std::move(engine))
{
    Device& dev = *engine_->device;
    buf = dev.createDeviceBuffer(std::uint64_t(rows) * std::uint64_t(cols) * 4);
    try {
        VkCommandBuffer cb = dev.begin();
        dev.fn.vkCmdFillBuffer(cb, buf.buffer, 0, VK_WHOLE_SIZE, 0);
        dev.submitAndWait(cb);
    } catch (...) {
        dev.destroy(buf);
        throw;
    }
}

DeviceF32Matrix::~DeviceF32Matrix() { engine_->device->destroy(buf); }

GemmF32::GemmF32(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}

GemmF32::~GemmF32()
{
    if (engine_ && engine_->device)
        engine_->device->destroy(out_);
}

void GemmF32::write(DeviceF32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld)
{
    prof::StageTimer t("vk.f32.write");
    const std::uint64_t stride = std::uint64_t(m.cols()) * 4;
    if (col == 0 && cols == m.cols() && ld == cols) {  // whole rows: one contiguous range
        engine_->device->upload(m.buf, std::uint64_t(row) * stride, src, std::uint64_t(rows) * stride);
        return;
    }
    engine_->device->uploadRows(m.buf, std::uint64_t(row) * stride + std::uint64_t(col) * 4, stride, src,
                                std::uint64_t(ld) * 4, std::uint64_t(cols) * 4, std::uint64_t(rows));
}

void GemmF32::read(const DeviceF32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld)
{
    prof::StageTimer t("vk.f32.read");
    const std::uint64_t stride = std::uint64_t(m.cols()) * 4;
    engine_->device->downloadRows(const_cast<Buffer&>(m.buf), std::uint64_t(row) * stride + std::uint64_t(col) * 4,
                                  stride, dst, std::uint64_t(ld) * 4, std::uint64_t(cols) * 4, std::uint64_t(rows));
}

GemmF32Tile GemmF32::tileFor(std::uint64_t m, std::uint64_t n) const
{
    constexpr GemmF32Tile small{64, 64, 4, 4}, large{128, 128, 8, 8};
    if (tileMode_ == 1)
        return small;
    if (tileMode_ == 2)
        return large;
    // Large tiles reuse each loaded value twice as often, but a product with few of them leaves
    // a big GPU's multiprocessors idle: large only on a discrete GPU with >= 256 tiles to run.
    const bool discrete = engine_->device->info.type == "discrete";
    return discrete && ceilDiv(m, 128) * ceilDiv(n, 128) >= 256 ? large : small;
}

bool GemmF32::gemm(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc, double& ms)
{
    const auto* da = dynamic_cast<const DeviceF32Matrix*>(a.matrix);
    const auto* db = dynamic_cast<const DeviceF32Matrix*>(b.matrix);
    if (!da || !db)
        return false;
    Device& dev = *engine_->device;
    const std::uint64_t m = std::uint64_t(transA ? a.cols : a.rows), k = std::uint64_t(transA ? a.rows : a.cols),
                        n = std::uint64_t(transB ? b.rows : b.cols);
    const std::uint64_t lda = std::uint64_t(da->cols()), ldb = std::uint64_t(db->cols());
    const std::uint64_t align = std::max<std::uint64_t>(16, dev.info.minStorageBufferOffsetAlignment);
    const GemmF32Tile tile = tileFor(m, n);
    // Floats one binding may hold, less the alignment slack of its start. Each operand is bound
    // by its stored rows: A's run over M (over K when transposed), B's over K (over N), C's over
    // M; pieces of K add onto C after a barrier.
    const std::uint64_t room = maxBinding_ > align ? (maxBinding_ - align) / 4 : 0;
    std::uint64_t mChunk = std::min<std::uint64_t>({m, room / n, 65535ull * tile.bm});
    std::uint64_t nChunk = std::min<std::uint64_t>(n, 65535ull * tile.bn);
    std::uint64_t kChunk = k;
    if (transA)
        kChunk = std::min(kChunk, room / lda);
    else
        mChunk = std::min(mChunk, room / lda);
    if (transB)
        nChunk = std::min(nChunk, room / ldb);
    else
        kChunk = std::min(kChunk, room / ldb);
    if (mChunk == 0 || nChunk == 0 || kChunk == 0 ||
        ceilDiv(m, mChunk) * ceilDiv(n, nChunk) * ceilDiv(k, kChunk) > kMaxSetsPerSubmission)
        return false;
    const std::uint64_t cBytes = m * n * 4;
    dev.ensure(out_, cBytes);
    const bool inlineStaging = dev.needsStaging(out_) && cBytes <= Device::kStagingBytes;

    prof::StageTimer recordTimer("vk.f32.gemm.record");
    Kernels& kernels = *engine_->kernels;
    kernels.resetDescriptors();
    VkCommandBuffer cb = dev.begin();
    dev.timestamp(cb, 0);
    const Spec spec{tile.bm, tile.bn, tile.tm, tile.tn, (tile.bm / tile.tm) * (tile.bn / tile.tn), 0};
    for (std::uint64_t k0 = 0; k0 < k; k0 += kChunk) {
        const std::uint64_t kc = std::min(kChunk, k - k0);
        if (k0 > 0)
            dev.computeBarrier(cb);  // this piece of K adds onto what the last one wrote
        for (std::uint64_t m0 = 0; m0 < m; m0 += mChunk) {
            const std::uint64_t mc = std::min(mChunk, m - m0);
            for (std::uint64_t n0 = 0; n0 < n; n0 += nChunk) {
                const std::uint64_t nc = std::min(nChunk, n - n0);
                GemmF32Push pc{};
                pc.m = std::uint32_t(mc);
                pc.n = std::uint32_t(nc);
                pc.k = std::uint32_t(kc);
                pc.lda = std::uint32_t(lda);
                pc.ldb = std::uint32_t(ldb);
                pc.ldc = std::uint32_t(n);
                pc.flags = (transB ? 1u : 0u) | (k0 > 0 ? 2u : 0u) | (transA ? 4u : 0u);
                const std::uint64_t aRow = std::uint64_t(a.row), aCol = std::uint64_t(a.col);
                const std::uint64_t bRow = std::uint64_t(b.row), bCol = std::uint64_t(b.col);
                std::array<Binding, kBindings> bind{};
                bind[0] = transA ? floats(da->buf, (aRow + k0) * lda + aCol + m0, (kc - 1) * lda + mc, align, &pc.offA)
                                 : floats(da->buf, (aRow + m0) * lda + aCol + k0, (mc - 1) * lda + kc, align, &pc.offA);
                bind[1] = floats(out_, m0 * n + n0, (mc - 1) * n + nc, align, &pc.offC);
                bind[2] = transB ? floats(db->buf, (bRow + n0) * ldb + bCol + k0, (nc - 1) * ldb + kc, align, &pc.offB)
                                 : floats(db->buf, (bRow + k0) * ldb + bCol + n0, (kc - 1) * ldb + nc, align, &pc.offB);
                kernels.dispatch(cb, KernelId::GemmF32, spec, bind, &pc, sizeof(pc), std::uint32_t(ceilDiv(nc, tile.bn)),
                                 std::uint32_t(ceilDiv(mc, tile.bm)));
            }
        }
    }
    dev.timestamp(cb, 1);
    if (inlineStaging)
        dev.stageOut(cb, out_, 0, cBytes, 0);
    recordTimer.stop();
    {
        prof::StageTimer t("vk.f32.gemm.submit_wait");
        ms = dev.submitAndWait(cb);
    }
    prof::add("vk.f32.gemm.gpu_timestamps", ms * 1e-3);
    prof::StageTimer readTimer("vk.f32.gemm.read_c");
    float* packed = c;
    if (ldc != std::int64_t(n)) {
        packed_.resize(m * n);
        packed = packed_.data();
    }
    if (inlineStaging)
        dev.readStaged(packed, cBytes, 0);
    else
        dev.download(out_, 0, packed, cBytes);
    if (packed != c)
        for (std::uint64_t i = 0; i < m; ++i)
            std::memcpy(c + i * std::uint64_t(ldc), packed + i * n, n * 4);
    return true;
}

} // namespace qs::compute::vk
