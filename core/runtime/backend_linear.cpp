#include "core/runtime/backend_linear.hpp"

#include "core/compute/shared_input_gemm.hpp"

#include <Eigen/Core>

namespace qs::runtime {

BackendLinear::BackendLinear(std::shared_ptr<compute::Backend> backend,
                             std::shared_ptr<const compute::WeightMatrix> weight, std::optional<Vec> bias)
    : backend_(std::move(backend)), prepared_(backend_->prepare(std::move(weight))), bias_(std::move(bias))
{
    if (bias_ && bias_->size() != prepared_->rows())
        throw compute::ComputeError("bias has " + std::to_string(bias_->size()) + " entries for " +
                                    std::to_string(prepared_->rows()) + " outputs");
}

void BackendLinear::forward(const Mat& x, Mat& y) const
{
    if (x.cols() != inFeatures())
        throw compute::ComputeError("linear expects " + std::to_string(inFeatures()) + " input features, got " +
                                    std::to_string(x.cols()));
    y.resize(x.rows(), outFeatures());
    backend_->dequantGemm(x.data(), int(x.rows()), *prepared_, y.data());
    if (bias_)
        y.rowwise() += bias_->transpose();
}

bool BackendLinear::forwardShared(std::span<const BackendLinear* const> linears, const Mat& x, std::span<Mat* const> ys)
{
    if (linears.empty() || linears.size() != ys.size() || linears.size() > 8)
        return false;
    for (const auto* l : linears)
        if (!l || l->backend_ != linears[0]->backend_)
            return false;
    const compute::PreparedWeights* ws[8];
    float* outs[8];
    for (std::size_t i = 0; i < linears.size(); ++i) {
        if (x.cols() != linears[i]->inFeatures())
            throw compute::ComputeError("linear expects " + std::to_string(linears[i]->inFeatures()) +
                                        " input features, got " + std::to_string(x.cols()));
        ys[i]->resize(x.rows(), linears[i]->outFeatures());
        ws[i] = linears[i]->prepared_.get();
        outs[i] = ys[i]->data();
    }
    compute::dequantGemmSharedInput(*linears[0]->backend_, x.data(), int(x.rows()),
                                    std::span(ws, linears.size()), std::span(outs, linears.size()));
    for (std::size_t i = 0; i < linears.size(); ++i)
        if (linears[i]->bias_)
            ys[i]->rowwise() += linears[i]->bias_->transpose();
    return true;
}

std::string BackendLinear::describe() const
{
    return compute::formatName(prepared_->matrix()) + " on " + backend_->name();
}

compute::DenseHalf toDenseHalf(const Mat& weight, bool bf16)
{
    compute::DenseHalf d;
    d.n = int(weight.rows());
    d.k = int(weight.cols());
    d.bf16 = bf16;
    d.bits.resize(std::size_t(weight.size()));
    for (Eigen::Index i = 0; i < weight.size(); ++i) {
        const float v = weight.data()[i];
        d.bits[std::size_t(i)] = bf16 ? Eigen::numext::bit_cast<std::uint16_t>(Eigen::bfloat16(v))
                                      : Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(v));
    }
    return d;
}

static std::shared_ptr<LinearOp> toBackend(const std::shared_ptr<LinearOp>& op,
                                           const std::shared_ptr<compute::Backend>& backend, bool bf16)
{
    const auto* dense = dynamic_cast<const DenseLinear*>(op.get());
    if (!dense)
        return op; // already replaced (quantized): leave it
    auto w = std::make_shared<const compute::WeightMatrix>(toDenseHalf(dense->weight(), bf16));
    return std::make_shared<BackendLinear>(backend, std::move(w), dense->bias());
}

void moveLinearsToBackend(LlamaWeights& weights, const std::shared_ptr<compute::Backend>& backend, bool bf16,
                          bool withLmHead)
{
    for (auto& b : weights.blocks)
        for (auto& l : b.linears)
            l = toBackend(l, backend, bf16);
    if (withLmHead)
        weights.lmHead = toBackend(weights.lmHead, backend, bf16);
}

} // namespace qs::runtime
