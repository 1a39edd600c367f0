#include "core/compute/cpu/cpu_backend.hpp"

#include "core/compute/cpu/attention.hpp"
#include "core/compute/cpu/dequant.hpp"
#include "core/util/thread_pool.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace qs::compute {
namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorI = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Stopwatch {
public:
    explicit Stopwatch(double& out) : out_(out), t0_(std::chrono::steady_clock::now()) {}
    ~Stopwatch() { out_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count(); }

private:
    double& out_;
    std::chrono::steady_clock::time_point t0_;
};

// Rows dequantized at a time: bounds the scratch to a few MB for any N.
constexpr int kRowChunk = 256;

} // namespace

void checkMatrixArgs(const char* op, const float* x, int m, int k)
{
    if (m <= 0 || k <= 0 || m > (1 << 24) || k > (1 << 22))
        throw ComputeError(std::string(op) + ": bad shape " + std::to_string(m) + "x" + std::to_string(k));
    if (!x)
        throw ComputeError(std::string(op) + ": null input");
}

void checkGemmArgs(const float* x, int m, const PreparedWeights& w, const float* y)
{
    checkMatrixArgs("dequantGemm", x, m, w.cols());
    if (!y)
        throw ComputeError("dequantGemm: null output");
}

void checkW8a8Args(const Int8Activations& x, const PreparedWeights& w, const float* y)
{
    const auto* wq = std::get_if<Int8PerChannel>(&w.matrix());
    if (!wq)
        throw ComputeError("w8a8Gemm: weights must be int8 per-channel, got " + formatName(w.matrix()));
    if (x.m <= 0 || x.m > (1 << 24) || x.k != wq->k)
        throw ComputeError("w8a8Gemm: activations " + std::to_string(x.m) + "x" + std::to_string(x.k) +
                           " do not match weights K=" + std::to_string(wq->k));
    if (x.q.size() != std::size_t(x.m) * std::size_t(x.k))
        throw ComputeError("w8a8Gemm: activation codes size mismatch");
    if (x.scale.size() != 1 && x.scale.size() != std::size_t(x.m))
        throw ComputeError("w8a8Gemm: activation scales must be 1 or M values");
    if (!y)
        throw ComputeError("w8a8Gemm: null output");
}

std::shared_ptr<PreparedWeights> CpuBackend::prepare(std::shared_ptr<const WeightMatrix> w)
{
    if (!w)
        throw ComputeError("prepare: null weights");
    validate(*w);
    return std::make_shared<PreparedWeights>(std::move(w));
}

void CpuBackend::dequantGemm(const float* x, int m, const PreparedWeights& w, float* y)
{
    checkGemmArgs(x, m, w, y);
    Stopwatch sw(lastMs_);
    const int n = w.rows(), k = w.cols();
    Eigen::Map<const RowMajorF> X(x, m, k);
    Eigen::Map<RowMajorF> Y(y, m, n);
    // Output rows split across the pool's threads (each with its own scratch); small products
    // stay on this thread.
    const std::int64_t work = std::int64_t(m) * n * k;
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t begin, std::int64_t end) {
            RowMajorF chunk;
            for (int n0 = int(begin); n0 < int(end); n0 += kRowChunk) {
                const int rows = std::min(kRowChunk, int(end) - n0);
                chunk.resize(rows, k);
                dequantRows(w.matrix(), n0, n0 + rows, chunk.data());
                Y.middleCols(n0, rows).noalias() = X * chunk.transpose();
            }
        },
        work < (1 << 20) ? n : 64);
}

void CpuBackend::w8a8Gemm(const Int8Activations& x, const PreparedWeights& w, float* y)
{
    checkW8a8Args(x, w, y);
    Stopwatch sw(lastMs_);
    const auto& wq = std::get<Int8PerChannel>(w.matrix());
    const RowMajorI X = Eigen::Map<const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                            x.q.data(), x.m, x.k).cast<std::int32_t>();
    RowMajorI chunk;
    RowMajorI acc;
    for (int n0 = 0; n0 < wq.n; n0 += kRowChunk) {
        const int rows = std::min(kRowChunk, wq.n - n0);
        chunk = Eigen::Map<const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                    wq.q.data() + std::size_t(n0) * wq.k, rows, wq.k).cast<std::int32_t>();
        acc.noalias() = X * chunk.transpose();
        for (int i = 0; i < x.m; ++i) {
            const float sx = x.scale.size() == 1 ? x.scale[0] : x.scale[std::size_t(i)];
            for (int j = 0; j < rows; ++j)
                y[std::size_t(i) * wq.n + std::size_t(n0 + j)] = float(acc(i, j)) * sx * wq.scale[std::size_t(n0 + j)];
        }
    }
}

void CpuBackend::hessianAccumulate(const float* x, int m, int k, float* h)
{
    checkMatrixArgs("hessianAccumulate", x, m, k);
    if (!h)
        throw ComputeError("hessianAccumulate: null output");
    Stopwatch sw(lastMs_);
    Eigen::Map<const RowMajorF> X(x, m, k);
    Eigen::Map<RowMajorF> H(h, k, k);
    // Rows of H split across the pool's threads.
    ThreadPool::shared().parallelFor(
        k,
        [&](std::int64_t b, std::int64_t e) { H.middleRows(b, e - b).noalias() += X.middleCols(b, e - b).transpose() * X; },
        std::int64_t(m) * k * k < (1 << 20) ? k : 32);
}

void CpuBackend::channelStats(const float* x, int m, int k, ChannelStats& acc)
{
    checkMatrixArgs("channelStats", x, m, k);
    if (acc.k != k || acc.absmax.size() != std::size_t(k) || acc.sumAbs.size() != std::size_t(k) ||
        acc.sumSq.size() != std::size_t(k))
        throw ComputeError("channelStats: accumulator is for " + std::to_string(acc.k) + " columns, input has " +
                           std::to_string(k));
    Stopwatch sw(lastMs_);
    for (int c = 0; c < k; ++c) {
        float amax = acc.absmax[std::size_t(c)];
        double sa = 0.0, sq = 0.0;
        for (int r = 0; r < m; ++r) {
            const float v = x[std::size_t(r) * k + c];
            amax = std::max(amax, std::fabs(v));
            sa += std::fabs(v);
            sq += double(v) * v;
        }
        acc.absmax[std::size_t(c)] = amax;
        acc.sumAbs[std::size_t(c)] += sa;
        acc.sumSq[std::size_t(c)] += sq;
    }
    acc.rows += std::uint64_t(m);
}

void CpuBackend::histogram(std::span<const float> x, Histogram& acc)
{
    validateEdges(acc.edges);
    if (acc.counts.size() != acc.edges.size() - 1)
        throw ComputeError("histogram: counts size != edges - 1");
    Stopwatch sw(lastMs_);
    const float lo = acc.edges.front(), hi = acc.edges.back();
    for (float v : x) {
        if (std::isnan(v))
            ++acc.nan;
        else if (v < lo)
            ++acc.below;
        else if (v > hi)
            ++acc.above;
        else {
            // Last edge <= v; v == hi belongs to the last bin.
            auto it = std::upper_bound(acc.edges.begin(), acc.edges.end(), v);
            std::size_t bin = std::size_t(it - acc.edges.begin()) - 1;
            bin = std::min(bin, acc.counts.size() - 1);
            ++acc.counts[bin];
        }
    }
}

void CpuBackend::attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out)
{
    checkAttentionArgs(s, q, k, v, out);
    Stopwatch sw(lastMs_);
    causalAttention(s, q, k, v, out);
}

void checkGemmF32Args(const F32Block& a, bool transA, const F32Block& b, bool transB, const float* c, std::int64_t ldc)
{
    checkF32Block("gemmF32", a);
    checkF32Block("gemmF32", b);
    const int ka = transA ? a.rows : a.cols, k = transB ? b.cols : b.rows, n = transB ? b.rows : b.cols;
    if (ka != k)
        throw ComputeError("gemmF32: a" + std::string(transA ? "^T" : "") + " has " + std::to_string(ka) + " columns, b" +
                           (transB ? "^T" : "") + " has " + std::to_string(k) + " rows");
    if (!c)
        throw ComputeError("gemmF32: null output");
    if (ldc < n)
        throw ComputeError("gemmF32: output row stride " + std::to_string(ldc) + " < " + std::to_string(n) + " columns");
}

void checkF32Copy(const char* op, const F32Matrix& m, int row, int col, int rows, int cols, const float* ptr,
                  std::int64_t ld)
{
    checkF32Block(op, {&m, row, col, rows, cols});
    if (!ptr)
        throw ComputeError(std::string(op) + ": null host array");
    if (ld < cols)
        throw ComputeError(std::string(op) + ": row stride " + std::to_string(ld) + " < " + std::to_string(cols) +
                           " columns");
}

void gemmF32Host(const float* a, std::int64_t lda, bool transA, const float* b, std::int64_t ldb, bool transB, int m,
                 int n, int k, float* c, std::int64_t ldc)
{
    using Strided = Eigen::Map<const RowMajorF, 0, Eigen::OuterStride<>>;
    Eigen::Map<RowMajorF, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
    const std::int64_t work = std::int64_t(m) * n * k;
    ThreadPool::shared().parallelFor(
        m,
        [&](std::int64_t r0, std::int64_t r1) {
            auto product = [&](const auto& rowsOfA) {
                if (transB)
                    C.middleRows(r0, r1 - r0).noalias() = rowsOfA * Strided(b, n, k, Eigen::OuterStride<>(ldb)).transpose();
                else
                    C.middleRows(r0, r1 - r0).noalias() = rowsOfA * Strided(b, k, n, Eigen::OuterStride<>(ldb));
            };
            if (transA)
                product(Strided(a, k, m, Eigen::OuterStride<>(lda)).middleCols(r0, r1 - r0).transpose());
            else
                product(Strided(a, m, k, Eigen::OuterStride<>(lda)).middleRows(r0, r1 - r0));
        },
        work < (1 << 20) ? m : 32);
}

void CpuBackend::awqClipErrors(const AwqClipProblem& p, float* errors, float* orgMax)
{
    Stopwatch sw(lastMs_);
    awqClipErrorsCpu(p, errors, orgMax);
}

std::unique_ptr<F32Matrix> CpuBackend::makeF32Matrix(int rows, int cols)
{
    if (rows < 1 || cols < 1)
        throw ComputeError("makeF32Matrix: bad shape " + std::to_string(rows) + "x" + std::to_string(cols));
    return std::make_unique<HostF32Matrix>(rows, cols);
}

namespace {

HostF32Matrix& hostMatrix(const char* op, const F32Matrix& m)
{
    auto* h = dynamic_cast<const HostF32Matrix*>(&m);
    if (!h)
        throw ComputeError(std::string(op) + ": the matrix was made by another backend");
    return const_cast<HostF32Matrix&>(*h);
}

} // namespace

void CpuBackend::writeF32(F32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld)
{
    checkF32Copy("writeF32", m, row, col, rows, cols, src, ld);
    auto& h = hostMatrix("writeF32", m);
    for (int r = 0; r < rows; ++r)
        std::copy_n(src + std::size_t(r) * std::size_t(ld), cols,
                    h.data.begin() + std::ptrdiff_t(std::size_t(row + r) * std::size_t(m.cols()) + std::size_t(col)));
}

void CpuBackend::readF32(const F32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld)
{
    checkF32Copy("readF32", m, row, col, rows, cols, dst, ld);
    const auto& h = hostMatrix("readF32", m);
    for (int r = 0; r < rows; ++r)
        std::copy_n(h.data.begin() + std::ptrdiff_t(std::size_t(row + r) * std::size_t(m.cols()) + std::size_t(col)), cols,
                    dst + std::size_t(r) * std::size_t(ld));
}

void CpuBackend::gemmF32(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc)
{
    checkGemmF32Args(a, transA, b, transB, c, ldc);
    Stopwatch sw(lastMs_);
    const auto& ha = hostMatrix("gemmF32", *a.matrix);
    const auto& hb = hostMatrix("gemmF32", *b.matrix);
    const std::int64_t lda = a.matrix->cols(), ldb = b.matrix->cols();
    gemmF32Host(ha.data.data() + a.row * lda + a.col, lda, transA, hb.data.data() + b.row * ldb + b.col, ldb, transB,
                transA ? a.cols : a.rows, transB ? b.rows : b.cols, transA ? a.rows : a.cols, c, ldc);
}

std::unique_ptr<Backend> makeCpuBackend() { return std::make_unique<CpuBackend>(); }

} // namespace qs::compute
