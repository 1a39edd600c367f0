#include "core/quant/outlier_linear.hpp"

#include "core/quant/absmax_int8.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

OutlierLinear::OutlierLinear(std::shared_ptr<compute::Backend> backend, const runtime::Mat& weight,
                             std::vector<int> outlierColumns, bool perTensor, std::optional<runtime::Vec> bias)
    : columns_(std::move(outlierColumns)), bias_(std::move(bias))
{
    const int n = int(weight.rows()), k = int(weight.cols());
    for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i] < 0 || columns_[i] >= k || (i > 0 && columns_[i] <= columns_[i - 1]))
            throw Error("outlier columns must be ascending, unique and below " + std::to_string(k));
    runtime::Mat ordinary = weight;
    runtime::Mat outliers(n, Eigen::Index(columns_.size()));
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        outliers.col(Eigen::Index(i)) = weight.col(columns_[i]);
        ordinary.col(columns_[i]).setZero();
    }
    int8Part_ = std::make_shared<runtime::BackendLinear>(
        backend, std::make_shared<const compute::WeightMatrix>(quantizeAbsmaxInt8(ordinary, perTensor)));
    if (!columns_.empty())
        f16Part_ = std::make_shared<runtime::BackendLinear>(
            backend, std::make_shared<const compute::WeightMatrix>(runtime::toDenseHalf(outliers)));
    if (bias_ && bias_->size() != n)
        throw Error("outlier linear: bias size " + std::to_string(bias_->size()) + " != " + std::to_string(n));
}

void OutlierLinear::forward(const runtime::Mat& x, runtime::Mat& y) const
{
    int8Part_->forward(x, y);
    if (f16Part_) {
        runtime::Mat gathered(x.rows(), Eigen::Index(columns_.size()));
        for (std::size_t i = 0; i < columns_.size(); ++i)
            gathered.col(Eigen::Index(i)) = x.col(columns_[i]);
        runtime::Mat yo;
        f16Part_->forward(gathered, yo);
        y += yo;
    }
    if (bias_)
        y.rowwise() += bias_->transpose();
}

std::string OutlierLinear::describe() const
{
    return "int8-channel + " + std::to_string(columns_.size()) + " f16 outlier columns on " +
           int8Part_->backend()->name();
}

runtime::Mat OutlierLinear::effectiveWeight() const
{
    runtime::Mat w = dequantize(int8Part_->weight());
    if (f16Part_) {
        const runtime::Mat o = dequantize(f16Part_->weight());
        for (std::size_t i = 0; i < columns_.size(); ++i)
            w.col(columns_[i]) = o.col(Eigen::Index(i));
    }
    return w;
}

std::size_t OutlierLinear::storedBytes() const
{
    std::size_t bytes = compute::weightBytes(int8Part_->weight()) + columns_.size() * 4;
    if (f16Part_)
        bytes += compute::weightBytes(f16Part_->weight());
    return bytes;
}

} // namespace qs::quant
