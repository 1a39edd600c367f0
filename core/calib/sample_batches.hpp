#pragma once
// Calibration samples stacked into batches for the block forwards: consecutive samples of one
// length, up to a row budget, become one [count*length][cols] matrix, so every linear runs once
// per batch (one GPU submission with thousands of rows) instead of once per sample.
// Transformer::blockStacked / attentionStacked keep the samples apart (RoPE positions and the
// causal mask restart at each sample).
#include "core/runtime/matrix.hpp"

#include <vector>

namespace qs::calib {

struct SampleBatch {
    std::size_t first = 0; // index of its first sample
    std::size_t count = 0; // samples in it
    int seqLen = 0;        // rows of each sample
};

// Rows per batch unless asked otherwise: 8 samples of 512 tokens. On a 7B-width model the MLP's
// gate and up outputs of such a batch are 180 MB each.
constexpr int kDefaultBatchRows = 4096;

// Batches covering samples in order; a sample longer than maxRows is a batch of its own.
std::vector<SampleBatch> planSampleBatches(const std::vector<runtime::Mat>& samples, int maxRows = kDefaultBatchRows);

runtime::Mat stackBatch(const std::vector<runtime::Mat>& samples, const SampleBatch& batch);
// The rows of a stacked batch back into its samples (resized to their parts).
void unstackBatch(const runtime::Mat& stacked, const SampleBatch& batch, std::vector<runtime::Mat>& samples);

} // namespace qs::calib
