#pragma once
// Text generation with a KV cache: greedy or sampled (temperature, top-p, seed), streaming each
// token as it is produced.
#include "core/jobs/progress.hpp"
#include "core/runtime/transformer.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace qs::runtime {

struct SamplingOptions {
    int maxTokens = 64;
    float temperature = 0.0f; // 0: greedy
    float topP = 1.0f;
    std::uint64_t seed = 0;
    std::optional<std::int32_t> stopToken; // usually EOS
};

// Returns the generated ids (without the prompt). onToken is called for each one; returning
// false from it stops generation.
std::vector<std::int32_t> generate(const Transformer& model, const std::vector<std::int32_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<bool(std::int32_t)>& onToken = {},
                                   jobs::Progress* progress = nullptr);

// Picks the next token from one row of logits (exposed for tests).
std::int32_t sampleToken(const Eigen::Ref<const Eigen::RowVectorXf>& logits, const SamplingOptions& options,
                         std::uint64_t& rngState);

} // namespace qs::runtime
