#pragma once
// Model-level cost of a quantization: perplexity of the quantized model and how far its
// next-token distributions move from the original's, on the same windows. The original's logits
// are computed once and reused for every method compared.
#include "core/eval/logit_compare.hpp"
#include "core/eval/perplexity.hpp"

#include <vector>

namespace qs::eval {

struct ReferenceWindows {
    int ctx = 0;
    std::vector<std::vector<std::int32_t>> windows;
    std::vector<runtime::Mat> logits; // the original model's, per window
    PerplexityResult perplexity;      // the original model's
};

ReferenceWindows computeReference(const runtime::Transformer& original, std::span<const std::int32_t> tokens, int ctx,
                                  int maxWindows, jobs::Progress* progress = nullptr);

struct ModelEvaluation {
    PerplexityResult perplexity;
    LogitComparison vsOriginal;
};

ModelEvaluation evaluateAgainst(const ReferenceWindows& reference, const runtime::Transformer& model,
                                jobs::Progress* progress = nullptr);

} // namespace qs::eval
