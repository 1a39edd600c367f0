#pragma once
// W8A8 execution (SmoothQuant): int8 weights, one absmax scale per output channel, times int8
// activations with int32 accumulation on the backend's w8a8Gemm. Activations are quantized
// when the layer runs: one scale per token (dynamic) or one static scale for the whole tensor
// taken from calibration. Rounding and the 1e-5 floor on absmax follow smoothquant's
// fake_quant.py (quantize_weight_per_channel_absmax, quantize_activation_per_token_absmax).
#include "core/compute/backend.hpp"
#include "core/runtime/linear.hpp"

#include <memory>
#include <optional>

namespace qs::quant {

// scale[n] = max(max|w[n][:]|, 1e-5) / 127, q = round(w / scale) in [-127, 127].
compute::Int8PerChannel quantizeInt8PerChannel(const runtime::Mat& w);

// Per token: scale[t] = max(max|x[t][:]|, 1e-5) / 127, q = round(x / scale).
compute::Int8Activations quantizeActivationsPerToken(const runtime::Mat& x);
// Per tensor with a given scale; codes saturate at +-127 (a static scale may be exceeded).
compute::Int8Activations quantizeActivationsPerTensor(const runtime::Mat& x, float scale);

class W8A8Linear : public runtime::LinearOp {
public:
    // weight must hold Int8PerChannel. staticScale > 0 selects per-tensor static activations,
    // 0 per-token dynamic ones.
    W8A8Linear(std::shared_ptr<compute::Backend> backend, std::shared_ptr<const compute::WeightMatrix> weight,
               std::optional<runtime::Vec> bias = std::nullopt, float staticScale = 0.0f);

    int inFeatures() const override { return prepared_->cols(); }
    int outFeatures() const override { return prepared_->rows(); }
    void forward(const runtime::Mat& x, runtime::Mat& y) const override;
    std::string describe() const override; // "w8a8 per-token on cpu (Eigen)"

    const compute::WeightMatrix& weight() const { return prepared_->matrix(); }
    const std::optional<runtime::Vec>& bias() const { return bias_; }
    float staticScale() const { return staticScale_; } // 0: per-token dynamic

private:
    std::shared_ptr<compute::Backend> backend_;
    std::shared_ptr<compute::PreparedWeights> prepared_;
    std::optional<runtime::Vec> bias_;
    float staticScale_;
};

} // namespace qs::quant
