#include "core/runtime/checkpoint_linear.hpp"

#include "core/util/error.hpp"

namespace qs::runtime {

CheckpointLinear::CheckpointLinear(const io::Checkpoint& checkpoint, std::string tensor, int outFeatures,
                                   int inFeatures, std::optional<Vec> bias)
    : checkpoint_(checkpoint), tensor_(std::move(tensor)), out_(outFeatures), in_(inFeatures), bias_(std::move(bias))
{
    const auto* info = checkpoint_.find(tensor_);
    if (!info)
        throw Error(checkpoint_.path().string() + ": missing tensor " + tensor_);
    if (info->shape.size() != 2 || info->shape[0] != out_ || info->shape[1] != in_)
        throw Error(checkpoint_.path().string() + ": tensor " + tensor_ + " has shape " + shapeToString(info->shape) +
                    ", expected [" + std::to_string(out_) + ", " + std::to_string(in_) + "]");
}

Mat CheckpointLinear::weight() const
{
    const Tensor t = checkpoint_.readF32(tensor_);
    return Eigen::Map<const Mat>(t.data.data(), out_, in_);
}

void CheckpointLinear::forward(const Mat& x, Mat& y) const
{
    DenseLinear(weight(), bias_).forward(x, y);
}

} // namespace qs::runtime
