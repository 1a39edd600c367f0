#pragma once
// A running X^T X over many batches of rows (the GPTQ Hessian, unnormalized). The Vulkan
// backend keeps the K x K sum in device memory between batches, so that only the rows travel
// (and the sum once, when read); other backends keep it on the host and add each batch with
// Backend::hessianAccumulate.
#include "core/compute/backend.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace qs::compute {

// What an X^T X sums: the rows as given (f32 products, exact to f32 rounding), or the rows rounded
// to f16 with f32 accumulation on the tensor cores where a GPU has them (GPTQ's reference feeds
// f16 activations; on the H100 ~330 vs 28 TFLOP/s, normalized error ~2e-4 against the exact
// sum). Where rounding to f16 is not possible (no tensor cores, K % 8 != 0, |x| beyond f16) the
// rows are summed as given.
enum class HessianInputs { Exact, Half };

class HessianSum {
public:
    explicit HessianSum(int k) : k_(k) {}
    virtual ~HessianSum() = default;
    HessianSum(const HessianSum&) = delete;
    HessianSum& operator=(const HessianSum&) = delete;

    int k() const { return k_; }
    virtual void add(const float* x, int m) = 0;  // x[M][K], M >= 1
    virtual void read(float* h) = 0;             // h[K][K] = the full (symmetric) sum so far

private:
    int k_;
};

// Rows stacked into batches of 2048 (at most 128 MB) before they go to a HessianSum:
// one call per batch instead of one per sample keeps a GPU's tiles busy and the per-call costs
// (submission, launch) small. read() adds what is pending first.
class BatchedHessianSum {
public:
    // batchRows: rows per add to the sum (0: automatic). Throws ComputeError for K < 1.
    BatchedHessianSum(Backend& backend, int k, int batchRows = 0, HessianInputs inputs = HessianInputs::Exact);
    int k() const { return sum_->k(); }
    std::int64_t rows() const { return rows_; }  // all rows added so far
    void add(const float* x, int m);              // x[M][K]
    void read(float* h);                          // h[K][K], the full sum

private:
    void flush();
    std::unique_ptr<HessianSum> sum_;
    std::vector<float> pending_;
    int batchRows_ = 0, pendingRows_ = 0;
    std::int64_t rows_ = 0;
};

// An empty sum for K columns on backend (which must outlive it). Throws ComputeError for K < 1.
std::unique_ptr<HessianSum> makeHessianSum(Backend& backend, int k, HessianInputs inputs = HessianInputs::Exact);
// The host version (any backend's hessianAccumulate), also the fallback of device sums.
std::unique_ptr<HessianSum> makeHostHessianSum(Backend& backend, int k);

} // namespace qs::compute
