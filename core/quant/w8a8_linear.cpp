#include "core/quant/w8a8_linear.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

namespace {

constexpr float kQmax = 127.0f;
constexpr float kAbsmaxFloor = 1e-5f; // fake_quant.py's clamp_(min=1e-5) before dividing by 127

std::int8_t toCode(float v, float scale)
{
    const float q = std::nearbyint(v / scale);
    return std::int8_t(std::clamp(q, -kQmax, kQmax));
}

} // namespace

compute::Int8PerChannel quantizeInt8PerChannel(const runtime::Mat& w)
{
    compute::Int8PerChannel out;
    out.n = int(w.rows());
    out.k = int(w.cols());
    out.q.resize(std::size_t(w.size()));
    out.scale.resize(std::size_t(w.rows()));
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
        const float s = std::max(w.row(r).cwiseAbs().maxCoeff(), kAbsmaxFloor) / kQmax;
        out.scale[std::size_t(r)] = s;
        for (Eigen::Index c = 0; c < w.cols(); ++c)
            out.q[std::size_t(r * w.cols() + c)] = toCode(w(r, c), s);
    }
    return out;
}

compute::Int8Activations quantizeActivationsPerToken(const runtime::Mat& x)
{
    compute::Int8Activations a;
    a.m = int(x.rows());
    a.k = int(x.cols());
    a.q.resize(std::size_t(x.size()));
    a.scale.resize(std::size_t(x.rows()));
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        const float s = std::max(x.row(t).cwiseAbs().maxCoeff(), kAbsmaxFloor) / kQmax;
        a.scale[std::size_t(t)] = s;
        for (Eigen::Index c = 0; c < x.cols(); ++c)
            a.q[std::size_t(t * x.cols() + c)] = toCode(x(t, c), s);
    }
    return a;
}

compute::Int8Activations quantizeActivationsPerTensor(const runtime::Mat& x, float scale)
{
    compute::Int8Activations a;
    a.m = int(x.rows());
    a.k = int(x.cols());
    a.q.resize(std::size_t(x.size()));
    a.scale = {scale};
    for (Eigen::Index i = 0; i < x.size(); ++i)
        a.q[std::size_t(i)] = toCode(x.data()[i], scale);
    return a;
}

W8A8Linear::W8A8Linear(std::shared_ptr<compute::Backend> backend, std::shared_ptr<const compute::WeightMatrix> weight,
                       std::optional<runtime::Vec> bias, float staticScale)
    : backend_(std::move(backend)), bias_(std::move(bias)), staticScale_(staticScale)
{
    if (!weight || !std::holds_alternative<compute::Int8PerChannel>(*weight))
        throw compute::ComputeError("W8A8 linear needs int8 per-channel weights");
    if (!(staticScale_ >= 0.0f) || !std::isfinite(staticScale_))
        throw compute::ComputeError("W8A8 static activation scale must be finite and >= 0");
    prepared_ = backend_->prepare(std::move(weight));
    if (bias_ && bias_->size() != prepared_->rows())
        throw compute::ComputeError("bias has " + std::to_string(bias_->size()) + " entries for " +
                                    std::to_string(prepared_->rows()) + " outputs");
}

void W8A8Linear::forward(const runtime::Mat& x, runtime::Mat& y) const
{
    if (x.cols() != inFeatures())
        throw compute::ComputeError("linear expects " + std::to_string(inFeatures()) + " input features, got " +
                                    std::to_string(x.cols()));
    y.resize(x.rows(), outFeatures());
    if (x.rows() == 0)
        return;
    const auto a = staticScale_ > 0.0f ? quantizeActivationsPerTensor(x, staticScale_) : quantizeActivationsPerToken(x);
    backend_->w8a8Gemm(a, *prepared_, y.data());
    if (bias_)
        y.rowwise() += bias_->transpose();
}

std::string W8A8Linear::describe() const
{
    return std::string("w8a8 ") + (staticScale_ > 0.0f ? "per-tensor static" : "per-token") + " on " + backend_->name();
}

} // namespace qs::quant
