#pragma once
// An f32 weight on a backend that only reads f16: W = hi + lo with hi = f16(W) and
// lo = f16(W - hi), y = x hi^T + x lo^T (+ b). The pair keeps about 22 mantissa bits (a relative
// weight error near 2^-22 against f16's 2^-11; values under f16's normal range lose bits, an
// absolute error of at most 2^-25), so a Vulkan forward pass can be checked against f32 goldens
// at f32 tolerances. Two products instead of one: for verification, not for speed.
#include "core/runtime/backend_linear.hpp"

namespace qs::runtime {

class SplitHalfLinear : public LinearOp {
public:
    SplitHalfLinear(const std::shared_ptr<compute::Backend>& backend, const Mat& weight, std::optional<Vec> bias);

    int inFeatures() const override { return high_->inFeatures(); }
    int outFeatures() const override { return high_->outFeatures(); }
    void forward(const Mat& x, Mat& y) const override;
    std::string describe() const override;

private:
    std::unique_ptr<BackendLinear> high_, low_;
};

// Like moveLinearsToBackend, with every dense linear as a SplitHalfLinear.
void moveLinearsToBackendSplitHalf(LlamaWeights& weights, const std::shared_ptr<compute::Backend>& backend,
                                   bool withLmHead = true);

} // namespace qs::runtime
