#pragma once
// LLM.int8()'s mixed-precision decomposition as a linear: the input columns whose
// activations are large (outlier features) are multiplied in f16, all others in int8:
//   y = x W_int8^T + x[:, cols] W_f16[:, cols]^T (+ b)
// where W_int8 is the weight with the outlier columns zeroed (so its per-channel scales come
// from the ordinary columns only). Both parts run on the compute backend.
// Unlike bitsandbytes, which picks the columns per batch from |x| >= threshold and quantizes
// the activations too, the columns here are fixed from calibration and activations stay f32.
#include "core/runtime/backend_linear.hpp"

#include <vector>

namespace qs::quant {

class OutlierLinear : public runtime::LinearOp {
public:
    // weight [N][K] f32; columns ascending, unique, < K.
    OutlierLinear(std::shared_ptr<compute::Backend> backend, const runtime::Mat& weight, std::vector<int> outlierColumns,
                  bool perTensor, std::optional<runtime::Vec> bias);

    int inFeatures() const override { return int8Part_->inFeatures(); }
    int outFeatures() const override { return int8Part_->outFeatures(); }
    void forward(const runtime::Mat& x, runtime::Mat& y) const override;
    std::string describe() const override;

    const compute::WeightMatrix& int8Weight() const { return int8Part_->weight(); }
    const compute::WeightMatrix* outlierWeight() const { return f16Part_ ? &f16Part_->weight() : nullptr; }
    const std::vector<int>& outlierColumns() const { return columns_; }
    const std::optional<runtime::Vec>& bias() const { return bias_; }

    // The f32 weight this linear computes with, [N][K].
    runtime::Mat effectiveWeight() const;
    // Every byte stored: int8 codes and scales, f16 outlier columns, their int32 indices.
    std::size_t storedBytes() const;

private:
    std::shared_ptr<runtime::BackendLinear> int8Part_;
    std::shared_ptr<runtime::BackendLinear> f16Part_; // [N][outliers], null when none
    std::vector<int> columns_;
    std::optional<runtime::Vec> bias_;
};

} // namespace qs::quant
