#pragma once
// Perplexity on a token stream cut into non-overlapping windows of ctx tokens (the last partial
// window is dropped). Protocols:
//  - FullWindow (GPTQ/AWQ papers): every window scored on its own; positions 1..ctx-1 are
//    predicted, the window's first token is context only.
//  - SecondHalf (llama.cpp's perplexity tool): only the second half of each window is scored,
//    tokens ctx/2+1..ctx-1, so every scored token has at least ctx/2 tokens of context.
#include "core/jobs/progress.hpp"
#include "core/runtime/transformer.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace qs::eval {

enum class PplProtocol { FullWindow, SecondHalf };

struct PerplexityResult {
    int ctx = 0;
    PplProtocol protocol = PplProtocol::FullWindow;
    std::vector<double> windowNll; // summed negative log-likelihood per window (nats)
    double totalNll = 0;
    std::int64_t predicted = 0;    // tokens scored
    double perplexity() const;
};

// Mean negative log-likelihood of targets under logits rows (log-softmax in double).
double sumNll(const runtime::Mat& logits, std::span<const std::int32_t> targets, int firstRow);

PerplexityResult evaluatePerplexity(const runtime::Transformer& model, std::span<const std::int32_t> tokens, int ctx,
                                    PplProtocol protocol = PplProtocol::FullWindow, int maxWindows = 0,
                                    jobs::Progress* progress = nullptr);

} // namespace qs::eval
