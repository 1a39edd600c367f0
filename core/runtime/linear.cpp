#include "core/runtime/linear.hpp"

#include "core/util/thread_pool.hpp"

namespace qs::runtime {

DenseLinear::DenseLinear(Mat weight, std::optional<Vec> bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}

void DenseLinear::forward(const Mat& x, Mat& y) const
{
    // Output features split across the pool's threads; small products stay on this thread.
    const Eigen::Index n = weight_.rows();
    y.resize(x.rows(), n);
    const std::int64_t work = std::int64_t(x.rows()) * n * weight_.cols();
    const std::int64_t minRows = work < (1 << 20) ? n : 64;
    ThreadPool::shared().parallelFor(
        n, [&](std::int64_t b, std::int64_t e) { y.middleCols(b, e - b).noalias() = x * weight_.middleRows(b, e - b).transpose(); },
        minRows);
    if (bias_)
        y.rowwise() += bias_->transpose();
}

} // namespace qs::runtime
