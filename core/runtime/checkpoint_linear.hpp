#pragma once
// A linear whose weight stays in the checkpoint (memory-mapped) and is read, as f32, for each
// product: a model too large for memory in f32 (Llama-2-7B: 27 GB) can be calibrated and
// quantized block by block holding one linear's f32 copy at a time, since a method replaces the
// linears of each block with quantized ones as it goes (LoadOptions::lazyLinears).
// The checkpoint must outlive the op. The decoded f32 weights of the linears used last are
// kept in a process-wide cache bounded in bytes (QS_LAZY_CACHE_BYTES, default 2 GiB), so the
// many products of one block during calibration decode each weight once.
#include "core/io/checkpoint.hpp"
#include "core/runtime/linear.hpp"

namespace qs::runtime {

class CheckpointLinear : public LinearOp {
public:
    CheckpointLinear(const io::Checkpoint& checkpoint, std::string tensor, int outFeatures, int inFeatures,
                     std::optional<Vec> bias);

    int inFeatures() const override { return in_; }
    int outFeatures() const override { return out_; }
    void forward(const Mat& x, Mat& y) const override;
    std::string describe() const override { return "f32 (read from the checkpoint per call)"; }

    Mat weight() const; // [out][in], read now
    const std::optional<Vec>& bias() const { return bias_; }

private:
    const io::Checkpoint& checkpoint_;
    std::string tensor_;
    int out_, in_;
    std::optional<Vec> bias_;
};

} // namespace qs::runtime
