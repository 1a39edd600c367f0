#pragma once
// Block-by-block calibration: the hidden states of all samples pass through one decoder block
// at a time. For each distinct linear input (q/k/v share one, gate/up share one) it gathers
// per-channel absmax, mean |x| and mean x^2, the GPTQ Hessian 2/n * sum x x^T, and a bounded
// random sample of raw input rows for the AWQ and SmoothQuant searches. A callback sees each
// block's statistics before the block's outputs are computed, so a method can quantize the
// block and have its quantized outputs feed the next block.
#include "core/calib/calibration_set.hpp"
#include "core/compute/hessian_sum.hpp"
#include "core/jobs/progress.hpp"
#include "core/runtime/transformer.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace qs::calib {

// Where a linear takes its input from.
enum class InputSite { Attention = 0, AttentionOutput = 1, Mlp = 2, MlpDown = 3 };
InputSite inputSiteOf(runtime::LinearRole role);
const char* inputSiteName(InputSite site);

class LinearInputStats {
public:
    // backend: where X^T X is summed (kept on the device by a GPU backend, rows stacked into
    // batches of 2048); null: Eigen's rank update on this thread.
    // batchRows: rows stacked per backend call (0: 2048, at most 128 MB).
    LinearInputStats(int channels, bool hessian, int maxSampleRows, std::uint64_t seed,
                     std::shared_ptr<compute::Backend> backend = nullptr, int batchRows = 0,
                     compute::HessianInputs hessianInputs = compute::HessianInputs::Exact);

    void add(const runtime::Mat& x); // rows are tokens

    std::int64_t tokens() const { return tokens_; }
    int channels() const { return int(absmax_.size()); }
    const runtime::Vec& absmax() const { return absmax_; }
    runtime::Vec meanAbs() const;
    runtime::Vec meanSquare() const;
    // 2/n * sum x x^T (GPTQ's H), full symmetric [channels][channels]; empty if not gathered.
    runtime::Mat gptqHessian() const;
    const runtime::Mat& sample() const { return sample_; } // up to maxSampleRows input rows

private:
    std::int64_t tokens_ = 0;
    runtime::Vec absmax_;
    Eigen::VectorXd sumAbs_, sumSquare_;
    bool hessianOn_;
    runtime::Mat xtx_; // lower triangle accumulated in f32 (no backend)
    std::shared_ptr<compute::Backend> backend_;
    mutable std::unique_ptr<compute::BatchedHessianSum> sum_; // full X^T X (with a backend)
    int maxSampleRows_;
    runtime::Mat sample_;
    std::uint64_t rngState_;
    std::int64_t seenRows_ = 0;
};

struct BlockCalibration {
    int block = 0;
    std::array<std::optional<LinearInputStats>, 4> sites; // by InputSite
    // The block's input hidden states, one [L][hidden] matrix per sample (before its input
    // norm): what GPTQ's true-sequential order and the AWQ search rerun parts of the block on.
    const std::vector<runtime::Mat>* inputs = nullptr;

    const LinearInputStats& site(InputSite s) const { return *sites[std::size_t(s)]; }
    const LinearInputStats& forLinear(runtime::LinearRole r) const { return site(inputSiteOf(r)); }
    bool hasStats(runtime::LinearRole r) const { return sites[std::size_t(inputSiteOf(r))].has_value(); }
    // The sampled input rows of a linear, empty when no statistics were gathered.
    runtime::Mat sampleFor(runtime::LinearRole r) const { return hasStats(r) ? forLinear(r).sample() : runtime::Mat(); }
};

struct CaptureOptions {
    bool hessian = true;
    int maxSampleRows = 512;
    std::uint64_t seed = 0;
    // Where the Hessians are summed (a GPU keeps them in device memory); null: on the CPU.
    std::shared_ptr<compute::Backend> backend = nullptr;
    int hessianBatchRows = 0; // rows per X^T X call on the backend (0: automatic; tests set few)
    // With hessian: the input sites (bit 1 << InputSite) that gather one; a method that
    // recomputes the later sites' Hessians itself (GPTQ's true-sequential order) asks for fewer.
    unsigned hessianSites = 0xFu;
    // With hessian on a GPU backend: X^T X of f16-rounded rows on the tensor cores (hessian_sum.hpp).
    compute::HessianInputs hessianInputs = compute::HessianInputs::Exact;
    // Rows per stacked batch of samples in the block forwards (0: kDefaultBatchRows).
    int batchRows = 0;

    // Statistics and input samples without the GPTQ Hessian (every method but GPTQ).
    static CaptureOptions withoutHessian(std::uint64_t seed, int maxSampleRows = 512)
    {
        return {false, maxSampleRows, seed};
    }
};

// Runs the whole calibration set through the model one block at a time. onBlock may replace
// the block's linears (model is not const for that reason); the block's outputs are computed
// after it returns. Progress: one stage per block; cancellable between batches of samples.
// onBlockDone (optional) is called with the block's index once its outputs are computed.
void streamCalibration(runtime::Transformer& model, const CalibrationSet& set, const CaptureOptions& options,
                       const std::function<void(BlockCalibration&)>& onBlock, jobs::Progress* progress = nullptr,
                       const std::function<void(int)>& onBlockDone = {});

} // namespace qs::calib
