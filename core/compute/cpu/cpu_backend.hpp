#pragma once
// The reference backend: Eigen on the host. Also the fallback of every GPU path.
#include "core/compute/backend.hpp"

#include <vector>

namespace qs::compute {

class CpuBackend final : public Backend {
public:
    std::string name() const override { return "cpu (Eigen)"; }
    std::shared_ptr<PreparedWeights> prepare(std::shared_ptr<const WeightMatrix> w) override;
    void dequantGemm(const float* x, int m, const PreparedWeights& w, float* y) override;
    void w8a8Gemm(const Int8Activations& x, const PreparedWeights& w, float* y) override;
    void hessianAccumulate(const float* x, int m, int k, float* h) override;
    void channelStats(const float* x, int m, int k, ChannelStats& acc) override;
    void histogram(std::span<const float> x, Histogram& acc) override;
    void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) override;
    void awqClipErrors(const AwqClipProblem& p, float* errors, float* orgMax) override;
    std::unique_ptr<F32Matrix> makeF32Matrix(int rows, int cols) override;
    void writeF32(F32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld) override;
    void readF32(const F32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld) override;
    void gemmF32(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc) override;
    double lastKernelMs() const override { return lastMs_; }
    using Backend::dequantGemm;
    using Backend::gemmF32;

private:
    double lastMs_ = 0.0;
};

// Shared argument checks (the Vulkan backend uses them too); throw ComputeError.
void checkGemmArgs(const float* x, int m, const PreparedWeights& w, const float* y);
void checkW8a8Args(const Int8Activations& x, const PreparedWeights& w, const float* y);
void checkMatrixArgs(const char* op, const float* x, int m, int k);
// gemmF32's: both blocks valid, inner dimensions equal, c non-null, ldc >= N.
void checkGemmF32Args(const F32Block& a, bool transA, const F32Block& b, bool transB, const float* c, std::int64_t ldc);
// writeF32's and readF32's: the block inside m, ptr non-null, ld >= cols.
void checkF32Copy(const char* op, const F32Matrix& m, int row, int col, int rows, int cols, const float* ptr,
                  std::int64_t ld);

// The host matrix the CPU backend's makeF32Matrix returns (the Vulkan backend's too, where a
// matrix does not fit in device memory).
class HostF32Matrix final : public F32Matrix {
public:
    HostF32Matrix(int rows, int cols) : F32Matrix(rows, cols), data(std::size_t(rows) * std::size_t(cols), 0.0f) {}
    std::vector<float> data;
};

// c (row stride ldc, M x N) = op(a) op(b) for strided row-major host arrays (a's rows lda apart,
// b's ldb), rows of c split over the pool: the CPU's gemmF32.
void gemmF32Host(const float* a, std::int64_t lda, bool transA, const float* b, std::int64_t ldb, bool transB, int m,
                 int n, int k, float* c, std::int64_t ldc);

} // namespace qs::compute
