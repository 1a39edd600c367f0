#pragma once
// A linear layer y = x W^T (+ b). The dense f32 weight is the reference; any linear can be
// swapped for another implementation (a quantized one) without copying the rest of the model.
#include "core/runtime/matrix.hpp"

#include <memory>
#include <optional>
#include <string>

namespace qs::runtime {

class LinearOp {
public:
    virtual ~LinearOp() = default;
    virtual int inFeatures() const = 0;
    virtual int outFeatures() const = 0;
    // x: [T][in] -> y: [T][out] (y is resized by the op).
    virtual void forward(const Mat& x, Mat& y) const = 0;
    virtual std::string describe() const = 0; // "f32", "int4-g128-asym", ...
};

class DenseLinear : public LinearOp {
public:
    DenseLinear(Mat weight, std::optional<Vec> bias);
    int inFeatures() const override { return int(weight_.cols()); }
    int outFeatures() const override { return int(weight_.rows()); }
    void forward(const Mat& x, Mat& y) const override;
    std::string describe() const override { return "f32"; }

    const Mat& weight() const { return weight_; }
    const std::optional<Vec>& bias() const { return bias_; }

private:
    Mat weight_; // [out][in]
    std::optional<Vec> bias_;
};

} // namespace qs::runtime
