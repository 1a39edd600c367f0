#pragma once
// The reference backend: Eigen on the host. Also the fallback of every GPU path.
#include "core/compute/backend.hpp"

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
    double lastKernelMs() const override { return lastMs_; }
    using Backend::dequantGemm;

private:
    double lastMs_ = 0.0;
};

// Shared argument checks (the Vulkan backend uses them too); throw ComputeError.
void checkGemmArgs(const float* x, int m, const PreparedWeights& w, const float* y);
void checkW8a8Args(const Int8Activations& x, const PreparedWeights& w, const float* y);
void checkMatrixArgs(const char* op, const float* x, int m, int k);

} // namespace qs::compute
