#include "core/runtime/generate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace qs::runtime {

std::int32_t sampleToken(const Eigen::Ref<const Eigen::RowVectorXf>& logits, const SamplingOptions& o,
                         std::uint64_t& rngState)
{
    Eigen::Index best = 0;
    logits.maxCoeff(&best);
    if (o.temperature <= 0.0f)
        return std::int32_t(best);

    const Eigen::Index n = logits.size();
    std::vector<double> p(static_cast<std::size_t>(n));
    const double mx = logits[best];
    double sum = 0;
    for (Eigen::Index i = 0; i < n; ++i)
        sum += p[std::size_t(i)] = std::exp((double(logits[i]) - mx) / o.temperature);
    for (auto& v : p)
        v /= sum;

    std::vector<std::int32_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return p[std::size_t(a)] > p[std::size_t(b)]; });
    // Nucleus: the smallest prefix whose mass reaches top-p (at least one token).
    double mass = 0;
    std::size_t keep = 0;
    while (keep < order.size()) {
        mass += p[std::size_t(order[keep++])];
        if (mass >= o.topP)
            break;
    }
    std::mt19937_64 rng(rngState);
    rngState = rng();
    const double u = std::uniform_real_distribution<double>(0.0, mass)(rng);
    double acc = 0;
    for (std::size_t i = 0; i < keep; ++i) {
        acc += p[std::size_t(order[i])];
        if (u < acc)
            return order[i];
    }
    return order[keep - 1];
}

std::vector<std::int32_t> generate(const Transformer& model, const std::vector<std::int32_t>& prompt,
                                   const SamplingOptions& o, const std::function<bool(std::int32_t)>& onToken,
                                   jobs::Progress* progress)
{
    if (prompt.empty())
        throw Error("generate: the prompt has no tokens");
    KvCache cache;
    std::uint64_t rngState = o.seed;
    std::vector<std::int32_t> out;
    if (progress)
        progress->beginStage("generating");
    Mat logits = model.forward(prompt, &cache);
    for (int i = 0; i < o.maxTokens; ++i) {
        const std::int32_t next = sampleToken(logits.row(logits.rows() - 1), o, rngState);
        out.push_back(next);
        if (onToken && !onToken(next))
            break;
        if (o.stopToken && next == *o.stopToken)
            break;
        if (progress)
            progress->report(double(i + 1) / double(o.maxTokens));
        const std::int32_t one[] = {next};
        logits = model.forward(one, &cache);
    }
    return out;
}

} // namespace qs::runtime
