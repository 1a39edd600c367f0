// GPTQ's sweep with the product at the start of each run on a backend's gemmF32 (a GPU): for
// all rows at once, E[:, :i1] R[:i1, run] with the error matrix E and R resident on the device.
// A run is GptqOptions::deviceRunWidth columns (default one lazy batch: then the CPU has no
// product of its own left but the batch's triangular one).
// Between runs the rows sweep in ranges over the thread pool exactly as the CPU driver's do
// (gptq_row_sweep.hpp), and the errors of the columns just quantized go up to the device.
#include "core/compute/backend.hpp"
#include "core/quant/gptq_row_sweep.hpp"
#include "core/quant/gptq_sweep_device.hpp"
#include "core/util/error.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"

#include <chrono>
#include <memory>

namespace qs::quant::detail {

namespace {

using Clock = std::chrono::steady_clock;
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <typename WMat>
GptqResult sweepOnDevice(const WMat& w, const GptqFactor& f, const GptqOptions& o, compute::Backend& backend)
{
    GptqResult r;
    SweepPlan<float> plan(f, o, int(w.rows()), int(w.cols()), r);
    plan.runWidth = std::max(1, o.deviceRunWidth);
    const int n = plan.n, k = plan.k;
    GptqDeviceTimes& times = r.deviceTimes;

    // R^T on the device (rSingle's column-major words as they lie; the products read it as
    // B^T): the factor's own copy where it was made there, else uploaded now.
    std::shared_ptr<compute::F32Matrix> R = f.deviceR;
    if (!R || f.deviceRBackend != &backend) {
        const auto t0 = Clock::now();
        prof::StageTimer t("gptq.device.upload_r");
        R = backend.makeF32Matrix(k, k);
        backend.writeF32(*R, 0, 0, k, k, f.rSingle.data(), k);
        times.uploads += since(t0);
    }
    // E^T (K x N): the columns quantized since the last upload are whole rows there, one
    // contiguous write; the products read it transposed.
    const std::unique_ptr<compute::F32Matrix> errorsT = backend.makeF32Matrix(k, n);

    // One range of rows per thread, kept for the whole sweep.
    ThreadPool& pool = ThreadPool::shared();
    const int ranges = std::max(1, std::min(pool.threads(), (n + 7) / 8));
    std::vector<std::unique_ptr<RowSweep<float, WMat>>> rows(static_cast<std::size_t>(ranges));
    auto rangeBegin = [&](int i) { return int(std::int64_t(n) * i / ranges); };
    pool.parallelFor(ranges, [&](std::int64_t b, std::int64_t e) {
        for (int i = int(b); i < int(e); ++i)
            rows[std::size_t(i)] =
                std::make_unique<RowSweep<float, WMat>>(plan, w, rangeBegin(i), rangeBegin(i + 1) - rangeBegin(i));
    });

    std::vector<float> product, staged;
    int uploaded = 0; // errors of columns [0, uploaded) are on the device
    for (std::size_t s = 0; s < plan.spans.size();) {
        const int i1 = plan.spans[s].begin, end = runEnd(plan.spans, s, plan.runWidth), width = end - i1;
        if (i1 > uploaded) {
            // The errors quantized since the last upload, gathered column by column from the
            // ranges (their W is column-major) into rows of E^T.
            const int cols = i1 - uploaded;
            const auto t0 = Clock::now();
            prof::StageTimer t("gptq.device.upload_errors");
            staged.resize(std::size_t(n) * std::size_t(cols));
            pool.parallelFor(ranges, [&](std::int64_t b, std::int64_t e) {
                for (int i = int(b); i < int(e); ++i) {
                    const int r0 = rangeBegin(i), nr = rangeBegin(i + 1) - r0;
                    Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>>(staged.data() + r0, nr, cols,
                                                                          Eigen::OuterStride<>(n)) =
                        rows[std::size_t(i)]->W.middleCols(uploaded, cols);
                }
            });
            backend.writeF32(*errorsT, uploaded, 0, cols, n, staged.data(), n);
            uploaded = i1;
            times.uploads += since(t0);
        }
        if (i1 > 0) {
            const auto t0 = Clock::now();
            prof::StageTimer t("gptq.device.product");
            product.resize(std::size_t(n) * std::size_t(width));
            // E[:, :i1] R[:i1, run] = (E^T[:i1, :])^T (R^T[run, :i1])^T
            backend.gemmF32({errorsT.get(), 0, 0, i1, n}, true, {R.get(), i1, 0, width, i1}, true, product.data(), width);
            times.products += since(t0);
            times.kernels += backend.lastKernelMs() * 1e-3;
            ++times.calls;
        }
        // The spans of this run: every one whose state ends inside the product.
        std::size_t t1 = s + 1;
        while (t1 < plan.spans.size() && plan.spans[t1].stateEnd <= end)
            ++t1;
        prof::StageTimer t("gptq.device.columns");
        pool.parallelFor(ranges, [&](std::int64_t b, std::int64_t e) {
            for (int i = int(b); i < int(e); ++i) {
                auto& range = *rows[std::size_t(i)];
                const int r0 = rangeBegin(i), nr = rangeBegin(i + 1) - r0;
                if (i1 > 0)
                    range.startRun(s, Eigen::Map<const RowMajorF>(product.data() + std::size_t(r0) * std::size_t(width),
                                                                  nr, width));
                else
                    range.startRun(s);  // nothing before the first column: zeros
                for (std::size_t u = s; u < t1; ++u)
                    range.span(u);
            }
        });
        s = t1;
    }
    plan.finish();
    return r;
}

} // namespace

GptqResult sweepWithBackend(const runtime::Mat& w, const GptqFactor& f, const GptqOptions& o, compute::Backend& backend)
{
    return sweepOnDevice(w, f, o, backend);
}

GptqResult sweepWithBackend(const Eigen::MatrixXd& w, const GptqFactor& f, const GptqOptions& o,
                            compute::Backend& backend)
{
    return sweepOnDevice(w, f, o, backend);
}

} // namespace qs::quant::detail
