#include "core/compute/hessian_sum.hpp"

#include "core/compute/vulkan/vulkan_backend.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace qs::compute {

namespace {

class HostHessianSum final : public HessianSum {
public:
    HostHessianSum(Backend& backend, int k) : HessianSum(k), backend_(backend), h_(std::size_t(k) * std::size_t(k), 0.0f) {}
    void add(const float* x, int m) override { backend_.hessianAccumulate(x, m, k(), h_.data()); }
    void read(float* h) override { std::copy(h_.begin(), h_.end(), h); }

private:
    Backend& backend_;
    std::vector<float> h_;
};

} // namespace

std::unique_ptr<HessianSum> makeHostHessianSum(Backend& backend, int k)
{
    if (k < 1)
        throw ComputeError("HessianSum: need at least one column, got " + std::to_string(k));
    return std::make_unique<HostHessianSum>(backend, k);
}

std::unique_ptr<HessianSum> makeHessianSum(Backend& backend, int k, HessianInputs inputs)
{
    if (auto* vulkan = dynamic_cast<VulkanBackend*>(&backend))
        return vulkan->makeHessianSum(k, inputs);
    return makeHostHessianSum(backend, k);
}

BatchedHessianSum::BatchedHessianSum(Backend& backend, int k, int batchRows, HessianInputs inputs)
    : sum_(makeHessianSum(backend, k, inputs))
{
    // 2048 rows: where the f32 X^T X kernel reached its measured 28 TFLOP/s (K=4096); more
    // only grows the buffer that every block faults in afresh.
    const std::uint64_t byBytes = (128ull << 20) / (std::uint64_t(k) * 4u);
    batchRows_ = batchRows > 0 ? batchRows : int(std::max<std::uint64_t>(64, std::min<std::uint64_t>(2048, byBytes)));
}

void BatchedHessianSum::flush()
{
    if (pendingRows_ == 0)
        return;
    sum_->add(pending_.data(), pendingRows_);
    pendingRows_ = 0;
}

void BatchedHessianSum::add(const float* x, int m)
{
    if (!x || m < 1)
        throw ComputeError("BatchedHessianSum::add: need at least one row");
    rows_ += m;
    const std::size_t row = std::size_t(k());
    if (m >= batchRows_) {  // a batch on its own
        flush();
        sum_->add(x, m);
        return;
    }
    if (pending_.empty())
        pending_.resize(std::size_t(batchRows_) * row);
    if (pendingRows_ + m > batchRows_)
        flush();
    std::copy(x, x + std::size_t(m) * row, pending_.begin() + std::ptrdiff_t(std::size_t(pendingRows_) * row));
    pendingRows_ += m;
}

void BatchedHessianSum::read(float* h)
{
    flush();
    sum_->read(h);
}

} // namespace qs::compute
