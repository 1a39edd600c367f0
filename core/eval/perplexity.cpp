#include "core/eval/perplexity.hpp"

#include <cmath>

namespace qs::eval {

double PerplexityResult::perplexity() const
{
    return predicted > 0 ? std::exp(totalNll / double(predicted)) : 0.0;
}

double sumNll(const runtime::Mat& logits, std::span<const std::int32_t> targets, int firstRow)
{
    double nll = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto row = logits.row(Eigen::Index(firstRow) + Eigen::Index(i));
        const double mx = row.maxCoeff();
        double sum = 0;
        for (Eigen::Index j = 0; j < row.size(); ++j)
            sum += std::exp(double(row[j]) - mx);
        nll += (std::log(sum) + mx) - double(row[targets[i]]);
    }
    return nll;
}

PerplexityResult evaluatePerplexity(const runtime::Transformer& model, std::span<const std::int32_t> tokens, int ctx,
                                    PplProtocol protocol, int maxWindows, jobs::Progress* progress)
{
    if (ctx < 4)
        throw Error("perplexity: ctx must be at least 4 tokens, got " + std::to_string(ctx));
    PerplexityResult r;
    r.ctx = ctx;
    r.protocol = protocol;
    std::size_t windows = tokens.size() / std::size_t(ctx);
    if (maxWindows > 0)
        windows = std::min(windows, std::size_t(maxWindows));
    if (windows == 0)
        throw Error("perplexity: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one window of " +
                    std::to_string(ctx));
    if (progress)
        progress->beginStage("perplexity");
    const int first = protocol == PplProtocol::FullWindow ? 0 : ctx / 2;
    for (std::size_t w = 0; w < windows; ++w) {
        const auto window = tokens.subspan(w * std::size_t(ctx), std::size_t(ctx));
        const runtime::Mat logits = model.forward(window);
        // Row i predicts token i+1.
        const auto targets = window.subspan(std::size_t(first) + 1);
        const double nll = sumNll(logits, targets, first);
        r.windowNll.push_back(nll);
        r.totalNll += nll;
        r.predicted += std::int64_t(targets.size());
        if (progress)
            progress->report(double(w + 1) / double(windows));
    }
    return r;
}

} // namespace qs::eval
