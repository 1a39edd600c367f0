#pragma once
// A linear whose product runs on a compute Backend (CPU reference or Vulkan) in any weight
// format the kernels read: f16/bf16, int8 per channel, group-wise int2/3/4, NF4, GGUF blocks.
// This is how a quantized layer replaces a dense one in the forward pass.
#include "core/compute/backend.hpp"
#include "core/runtime/linear.hpp"
#include "core/runtime/llama_weights.hpp"

#include <memory>
#include <optional>
#include <span>

namespace qs::runtime {

class BackendLinear : public LinearOp {
public:
    BackendLinear(std::shared_ptr<compute::Backend> backend, std::shared_ptr<const compute::WeightMatrix> weight,
                  std::optional<Vec> bias = std::nullopt);

    int inFeatures() const override { return prepared_->cols(); }
    int outFeatures() const override { return prepared_->rows(); }
    void forward(const Mat& x, Mat& y) const override;
    std::string describe() const override;

    // The products of several linears that read the same x, as their forwards would give; when
    // all run on one backend, through compute::dequantGemmSharedInput (x uploaded once on a
    // GPU). Returns false, computing nothing, when they are on different backends.
    static bool forwardShared(std::span<const BackendLinear* const> linears, const Mat& x, std::span<Mat* const> ys);

    const compute::WeightMatrix& weight() const { return prepared_->matrix(); }
    const std::optional<Vec>& bias() const { return bias_; }
    const std::shared_ptr<compute::Backend>& backend() const { return backend_; }

private:
    std::shared_ptr<compute::Backend> backend_;
    std::shared_ptr<compute::PreparedWeights> prepared_;
    std::optional<Vec> bias_;
};

// f32 [N][K] -> f16 (or bf16) bits, round to nearest even.
compute::DenseHalf toDenseHalf(const Mat& weight, bool bf16 = false);

// Replaces every dense linear of every block (and the LM head when withLmHead) by a
// BackendLinear holding its weight in f16 (or bf16): the model then runs its GEMMs on backend.
void moveLinearsToBackend(LlamaWeights& weights, const std::shared_ptr<compute::Backend>& backend, bool bf16 = false,
                          bool withLmHead = true);

} // namespace qs::runtime
