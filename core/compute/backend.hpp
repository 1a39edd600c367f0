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
// AWQ's clip search (quant/awq_clip.hpp) in its Gram form: for every row r, group g and shrink
// s_i, the group's weights clamped to +-orgMax(r, g) s_i and fake-quantized on the group-wise grid
// (compute/group_grid.hpp, the CPU's rounding exactly), d = w - q, error = d^T G_g d with G_g the
// group's gs x gs block of X^T X / T.
struct AwqClipProblem {
    const float* w = nullptr;        // [n][k]
    int n = 0, k = 0;
    int groupSize = 0;               // divides k
    const float* gram = nullptr;     // [k / groupSize][groupSize][groupSize], row-major blocks
    int bits = 4;                    // 2..8
    bool symmetric = false;
    std::span<const float> shrinks;  // [steps], in (0, 1]
    int groups() const { return groupSize > 0 ? k / groupSize : 0; }
};
// Throws ComputeError for null pointers, non-positive sizes, a group size that does not divide
// k, bits outside 2..8, no shrinks or one outside (0, 1], or arrays past 2^40 bytes.
void checkAwqClipArgs(const AwqClipProblem& p, const float* errors, const float* orgMax);
// The CPU twin (rows split over the thread pool): errors [steps][n][groups], orgMax [n][groups].
void awqClipErrorsCpu(const AwqClipProblem& p, float* errors, float* orgMax);

// A row-major f32 matrix kept where its backend computes (device memory on a GPU, host memory
// on the CPU), written and read in blocks, and multiplied by gemmF32: operands that many
// products share (GPTQ's R, its growing error matrix) cross the bus once.
class F32Matrix {
public:
    F32Matrix(int rows, int cols) : rows_(rows), cols_(cols) {}
    virtual ~F32Matrix() = default;
    F32Matrix(const F32Matrix&) = delete;
    F32Matrix& operator=(const F32Matrix&) = delete;
    int rows() const { return rows_; }
    int cols() const { return cols_; }

private:
    int rows_, cols_;
};

// Rows [row, row + rows) and columns [col, col + cols) of an F32Matrix.
struct F32Block {
    const F32Matrix* matrix = nullptr;
    int row = 0, col = 0, rows = 0, cols = 0;
};
// Throws ComputeError unless b lies inside its (non-null) matrix with rows, cols >= 1.
void checkF32Block(const char* op, const F32Block& b);

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "cpu (Eigen)", "vulkan: NVIDIA H100 80GB HBM3"
    virtual bool isGpu() const { return false; }
    // A GPU backend whose device is the host's own CPU (lavapipe): correct, but bulk work that
    // the CPU backend does well gains nothing there.
    virtual bool isCpuDevice() const { return !isGpu(); }

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

    // AWQ clip-search errors (AwqClipProblem): errors [steps][n][groups] and orgMax [n][groups]
    // (max |w| of each group), f32 sums.
    virtual void awqClipErrors(const AwqClipProblem& p, float* errors, float* orgMax) = 0;

    // A zero-filled rows x cols matrix for gemmF32 (rows, cols >= 1; ComputeError otherwise).
    virtual std::unique_ptr<F32Matrix> makeF32Matrix(int rows, int cols) = 0;
    // Copies src (rows x cols at row stride ld >= cols) into m at (row, col), or the block of m
    // there out into dst.
    virtual void writeF32(F32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld) = 0;
    virtual void readF32(const F32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld) = 0;
    // c = op(a) op(b) in f32 with f32 accumulation, op(x) = x or x^T (transA, transB): op(a) is
    // M x K, op(b) is K x N, c is written at row stride ldc >= N (host memory). Both blocks must
    // come from this backend's makeF32Matrix.
    virtual void gemmF32(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc) = 0;
    // The same for dense row-major host arrays: c[M][N] = a[M][K] b[K][N] (b[N][K] with transB).
    void gemmF32(const float* a, int m, int k, const float* b, int n, bool transB, float* c);

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
