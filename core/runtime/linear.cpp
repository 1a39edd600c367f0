#include "core/runtime/linear.hpp"

namespace qs::runtime {

DenseLinear::DenseLinear(Mat weight, std::optional<Vec> bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}

void DenseLinear::forward(const Mat& x, Mat& y) const
{
    y.noalias() = x * weight_.transpose();
    if (bias_)
        y.rowwise() += bias_->transpose();
}

} // namespace qs::runtime
