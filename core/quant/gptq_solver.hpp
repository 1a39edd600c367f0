#pragma once
// GPTQ's solver for one linear (Frantar et al. 2022, gptq.py's fasterquant): quantize the
// columns of W one at a time and spread each column's error over the columns not yet quantized
// through the upper Cholesky factor of H^-1, in lazy batches of blockSize columns.
//
// How it is computed (the results are gptq.py's): H = R R^T with R upper (gptq_cholesky.hpp),
// so U = R^-1 is gptq.py's upper factor of H^-1, and the errors E = (W - Q) R give each batch's
// starting weights from the quantized columns before it with one GEMM, W_b + (D R[:, b]) U_bb,
// where only the batch's diagonal block U_bb = R_bb^-1 is ever inverted (left-looking, no k^3
// inverse). Rows are independent given R, so the sweep splits them over the thread pool.
// Double precision reproduces the column-by-column reference code for code; single precision
// is what gptq.py runs on the GPU, about twice as fast, and flips a small fraction of codes
// (tests/quant_gptq states the tolerances).
//
// With GptqOptions::productBackend a GPU (single precision), the large f32 products go there
// (gptq_sweep_device.cpp, gptq_cholesky.hpp): the factorization's left-looking panel updates and
// the sweep's product at the start of each run, for all rows at once, with R and the growing
// error matrix resident on the device; the column-by-column quantization stays on the CPU.
#include "core/quant/groupwise.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <vector>

namespace qs::compute {
class Backend;
class F32Matrix;
} // namespace qs::compute

namespace qs::quant {

enum class GptqPrecision { Double, Single };

struct GptqOptions {
    GroupGrid grid;           // bits and symmetric
    int groupSize = 0;        // 0: one group per output row (per channel)
    double damp = 0.01;       // fraction of mean(diag H) added to the diagonal
    int maxDampTries = 5;     // damp x10 after each failed Cholesky: 0.01 .. 100
    bool actOrder = false;    // columns by descending diag(H)
    bool staticGroups = false;// group params from the unpermuted weights before the sweep
    bool mseGrid = false;     // quant.py's shrink search: 100-point grid, maxshrink 0.8, norm 2.4
    int blockSize = 128;      // lazy batch width
    // gptq.py finds a group's params from W, which within a lazy batch does not yet hold the
    // batch's own updates; false (default) uses the weights as they stand at the group's first
    // column (all earlier errors applied), as the unbatched algorithm does. The two agree
    // whenever groups start on batch boundaries (group size a multiple of blockSize).
    bool paramsFromBatchStart = false;
    GptqPrecision precision = GptqPrecision::Double; // of the factorization and the sweep
    bool keepDequantized = true; // fill GptqResult::dequantized (the method stores codes only)
    // Where the factorization's and the sweep's large f32 products run (Single precision only;
    // must outlive the calls and the factors made with it): null (default), the CPU threads.
    // Results then differ from the CPU path's by f32 rounding (tests/quant_gptq's tolerances).
    compute::Backend* productBackend = nullptr;
    // With a productBackend: columns whose start state one device product gives (spans are
    // joined while the run is narrower). Narrow runs leave the CPU less to multiply (the CPU
    // driver's runs are 512 wide and multiply within them) at one round trip per run.
    int deviceRunWidth = 128;
};

// Where the time of the products on a productBackend went (wall seconds).
struct GptqDeviceTimes {
    double products = 0;  // gemmF32 calls, the download of each result included
    double kernels = 0;   // of which the GPU ran the kernels (its timestamps)
    double uploads = 0;   // writes of R and of the errors to the device
    int calls = 0;        // products
};

// What the sweep needs from a Hessian, computed once for all linears that read the same inputs
// (k, v, q share one; gate and up share one). Depends on damp, maxDampTries, actOrder and
// precision of the options it was made with.
struct GptqFactor {
    int k = 0;
    std::vector<int> perm;      // sweep position -> original column (identity without act-order)
    std::vector<int> dead;      // original columns with a zero Hessian diagonal
    Eigen::MatrixXd r;          // upper R, R R^T = permuted, damped H (Double)
    Eigen::MatrixXf rSingle;    // the same in single precision (Single)
    double dampUsed = 0;        // fraction of mean(diag H) that let Cholesky succeed
    int dampTries = 1;
    GptqPrecision precision = GptqPrecision::Double;
    bool actOrder = false;
    double damp = 0;
    int maxDampTries = 0;
    // R^T (rSingle's column-major words as they lie) resident on the productBackend that made
    // the factor; null where none was used.
    std::shared_ptr<compute::F32Matrix> deviceR;
    const compute::Backend* deviceRBackend = nullptr;
    GptqDeviceTimes deviceTimes; // of the factorization
};

struct GptqResult {
    GroupwiseResult q;              // codes [N][K] in original column order, params per group
    std::vector<std::int32_t> gIdx; // group of each original column; empty when it is c / groupSize
    Eigen::MatrixXd dequantized;    // Q [N][K], original column order; empty without keepDequantized
    double dampUsed = 0;            // fraction of mean(diag H) that let Cholesky succeed
    int dampTries = 1;
    double loss = 0;                // sum (w - q)^2 / d^2 / 2, gptq.py's printed "error"
    int deadColumns = 0;
    GptqDeviceTimes deviceTimes;    // of the sweep, where it ran with a productBackend
};

// Quantization params of one group's values (count values at stride), GPTQ's find_params;
// with mse, the shrink factor p = 1 - i/100 (i < 80) minimizing sum |q(x) - x|^2.4.
void findGptqParams(const double* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                    float& zero);
void findGptqParams(const float* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                    float& zero);

// H: [K][K] symmetric, 2/n X^T X. Throws qs::Error when the Cholesky factorization fails after
// every damping try (the message names the last damp tried).
GptqFactor factorGptqHessian(const Eigen::MatrixXd& h, const GptqOptions& options);
// The same for an f32 Hessian as calibration sums it (row-major; need not be exactly symmetric:
// each pair h_ij, h_ji is averaged).
GptqFactor factorGptqHessian(const runtime::Mat& h, const GptqOptions& options);

// w: [N][K]. Throws qs::Error when the group size does not divide K, or when factor was made
// for another K or other options.
GptqResult gptqQuantize(const Eigen::MatrixXd& w, const GptqFactor& factor, const GptqOptions& options);
// The same for f32 weights as the model holds them (row-major [N][K], no double copy).
GptqResult gptqQuantize(const runtime::Mat& w, const GptqFactor& factor, const GptqOptions& options);

// Both steps for a single linear.
GptqResult gptqQuantize(const Eigen::MatrixXd& w, const Eigen::MatrixXd& h, const GptqOptions& options);

// tr((W - Q) H (W - Q)^T): the layer's output error on the calibration inputs (times 2/n).
double layerError(const Eigen::MatrixXd& w, const Eigen::MatrixXd& q, const Eigen::MatrixXd& h);

} // namespace qs::quant
