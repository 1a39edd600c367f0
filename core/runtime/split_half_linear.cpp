#include "core/runtime/split_half_linear.hpp"

#include <Eigen/Core>

namespace qs::runtime {

namespace {

// f16 bits back to f32, exactly.
Mat fromDenseHalf(const compute::DenseHalf& d)
{
    Mat out(d.n, d.k);
    for (Eigen::Index i = 0; i < out.size(); ++i)
        out.data()[i] = float(Eigen::numext::bit_cast<Eigen::half>(d.bits[std::size_t(i)]));
    return out;
}

} // namespace

SplitHalfLinear::SplitHalfLinear(const std::shared_ptr<compute::Backend>& backend, const Mat& weight,
                                 std::optional<Vec> bias)
{
    compute::DenseHalf high = toDenseHalf(weight);
    compute::DenseHalf low = toDenseHalf(weight - fromDenseHalf(high));
    high_ = std::make_unique<BackendLinear>(backend, std::make_shared<const compute::WeightMatrix>(std::move(high)),
                                            std::move(bias));
    low_ = std::make_unique<BackendLinear>(backend, std::make_shared<const compute::WeightMatrix>(std::move(low)));
}

void SplitHalfLinear::forward(const Mat& x, Mat& y) const
{
    Mat lowPart;
    high_->forward(x, y);
    low_->forward(x, lowPart);
    y += lowPart;
}

std::string SplitHalfLinear::describe() const
{
    return "f16 hi+lo on " + high_->backend()->name();
}

void moveLinearsToBackendSplitHalf(LlamaWeights& weights, const std::shared_ptr<compute::Backend>& backend,
                                   bool withLmHead)
{
    const auto move = [&](std::shared_ptr<LinearOp>& op) {
        if (const auto* dense = dynamic_cast<const DenseLinear*>(op.get()))
            op = std::make_shared<SplitHalfLinear>(backend, dense->weight(), dense->bias());
    };
    for (auto& b : weights.blocks)
        for (auto& l : b.linears)
            move(l);
    if (withLmHead)
        move(weights.lmHead);
}

} // namespace qs::runtime
