#pragma once
// How far a quantized model's next-token distributions move from the original's on the same
// windows: KL(P_ref || P_test), top-1 agreement, and the change of the reference's top token's
// probability. Plus the per-layer output error ||W X - W' X|| / ||W X||.
#include "core/jobs/progress.hpp"
#include "core/runtime/transformer.hpp"

#include <cstdint>
#include <span>

namespace qs::eval {

struct LogitComparison {
    std::int64_t positions = 0;
    double meanKl = 0;             // nats per position
    double maxKl = 0;
    double top1Agreement = 0;      // fraction of positions whose argmax agrees
    double meanTopProbChange = 0;  // mean of p_test(top_ref) - p_ref(top_ref)
    double rmsTopProbChange = 0;
};

// Accumulates over rows of two logit matrices of the same shape.
class LogitComparer {
public:
    void add(const runtime::Mat& reference, const runtime::Mat& test);
    LogitComparison result() const;

private:
    std::int64_t n_ = 0;
    double klSum_ = 0, klMax_ = 0, agree_ = 0, dSum_ = 0, dSq_ = 0;
};

// Both models over the same non-overlapping ctx windows of tokens (at most maxWindows, 0 = all).
LogitComparison compareModels(const runtime::Transformer& reference, const runtime::Transformer& test,
                              std::span<const std::int32_t> tokens, int ctx, int maxWindows = 0,
                              jobs::Progress* progress = nullptr);

// ||x W^T - x W'^T|| / ||x W^T|| (Frobenius) for two implementations of one linear.
double relativeOutputError(const runtime::LinearOp& reference, const runtime::LinearOp& test, const runtime::Mat& x);

} // namespace qs::eval
