#pragma once
// One interface for all heavy math; `cpu` (Eigen, the reference) and `vulkan` implement it.
// Inputs and outputs are host arrays, row-major; weights are prepared once (uploaded, for a GPU)
// and then used by many calls.
#include "core/compute/weight_formats.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace qs::compute {

// A weight matrix made ready for one backend. Keeps the host matrix alive (a GPU backend falls
// back to the CPU with it when a kernel cannot run).
class PreparedWeights {
public:
    explicit PreparedWeights(std::shared_ptr<const WeightMatrix> w) : host_(std::move(w)) {}
    virtual ~PreparedWeights() = default;
    const WeightMatrix& matrix() const { return *host_; }
    int rows() const { return rowsOf(*host_); }
    int cols() const { return colsOf(*host_); }

private:
    std::shared_ptr<const WeightMatrix> host_;
};

// int8 activations, [M][K], with one scale per row (dynamic per-token) or one for all (static).
struct Int8Activations {
    int m = 0, k = 0;
    std::vector<std::int8_t> q;
    std::vector<float> scale;  // size m (per token) or 1 (per tensor)
};

// Per-column statistics of activations, accumulated over calls (calibration streams batches).
struct ChannelStats {
    int k = 0;
    std::uint64_t rows = 0;
    std::vector<float> absmax;   // [K]
    std::vector<double> sumAbs;  // [K]
    std::vector<double> sumSq;   // [K]
    explicit ChannelStats(int cols = 0) : k(cols), absmax(std::size_t(cols), 0.0f), sumAbs(std::size_t(cols), 0.0), sumSq(std::size_t(cols), 0.0) {}
    double meanAbs(int c) const { return rows ? sumAbs[std::size_t(c)] / double(rows) : 0.0; }
    double meanSq(int c) const { return rows ? sumSq[std::size_t(c)] / double(rows) : 0.0; }
};

// Counts over given bin edges, accumulated over calls. Bin i holds edges[i] <= x < edges[i+1];
// the last bin also holds x == edges.back() (numpy's convention). Edges: finite, strictly
// increasing, 2..65537 of them.
struct Histogram {
    std::vector<float> edges;
    std::vector<std::uint64_t> counts;  // edges.size() - 1
    std::uint64_t below = 0, above = 0, nan = 0;
    explicit Histogram(std::vector<float> e = {}) : edges(std::move(e)), counts(edges.size() > 1 ? edges.size() - 1 : 0, 0) {}
};
void validateEdges(std::span<const float> edges);  // throws ComputeError

// Causal grouped-query self-attention over a batch of samples: q [samples][queries][heads*D],
// k and v [samples][keys][kvHeads*D], out like q; query head h reads key/value head
// h / (heads / kvHeads). Query t of a sample sits at position keys - queries + t (keys > queries:
// a cached prefix) and sees the keys 0..that position.
struct AttentionShape {
    int samples = 1;
    int queries = 0;
    int keys = 0;
    int heads = 0, kvHeads = 0, headDim = 0;
    double flops() const;  // 4 D per (head, query, visible key): the causal half only
};
// Throws ComputeError for null pointers, non-positive sizes, keys < queries, heads not a
// multiple of kvHeads, or arrays past 2^40 bytes.
void checkAttentionArgs(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out);

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "cpu (Eigen)", "vulkan: NVIDIA H100 80GB HBM3"
    virtual bool isGpu() const { return false; }

    // Validates w (ComputeError) and makes it ready for this backend.
    virtual std::shared_ptr<PreparedWeights> prepare(std::shared_ptr<const WeightMatrix> w) = 0;

    // y[M][N] = x[M][K] * dequant(W)^T; a GEMV when M == 1.
    virtual void dequantGemm(const float* x, int m, const PreparedWeights& w, float* y) = 0;
    // y[M][N] = (xq * sx) (wq * sw)^T with int32 accumulation; w must hold Int8PerChannel.
    virtual void w8a8Gemm(const Int8Activations& x, const PreparedWeights& w, float* y) = 0;
    // h[K][K] += x^T x for x[M][K] (GPTQ Hessian, unnormalized).
    virtual void hessianAccumulate(const float* x, int m, int k, float* h) = 0;
    // Adds the rows of x[M][K] to acc (acc.k must equal K).
    virtual void channelStats(const float* x, int m, int k, ChannelStats& acc) = 0;
    // Adds x to acc's counts.
    virtual void histogram(std::span<const float> x, Histogram& acc) = 0;
    // out = softmax(q k^T / sqrt(D) + causal mask) v, f32 (see AttentionShape).
    virtual void attention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) = 0;

    // Time of the last op's kernels in milliseconds: GPU timestamps around the dispatches
    // (uploads and downloads excluded) or the CPU's wall time.
    virtual double lastKernelMs() const = 0;

    // Convenience for one-off calls: prepares w for this call only.
    void dequantGemm(const float* x, int m, const WeightMatrix& w, float* y);
};

std::unique_ptr<Backend> makeCpuBackend();
// The Vulkan backend when preferGpu and a device works, else the CPU backend (the reason is
// logged). Never throws for a missing loader or device.
std::unique_ptr<Backend> makeBackend(bool preferGpu);

} // namespace qs::compute
