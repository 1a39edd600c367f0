#include "core/eval/model_eval.hpp"

#include "core/util/error.hpp"

namespace qs::eval {

ReferenceWindows computeReference(const runtime::Transformer& original, std::span<const std::int32_t> tokens, int ctx,
                                  int maxWindows, jobs::Progress* progress)
{
    if (ctx < 4)
        throw Error("evaluation: ctx must be at least 4 tokens");
    std::size_t windows = tokens.size() / std::size_t(ctx);
    if (maxWindows > 0)
        windows = std::min(windows, std::size_t(maxWindows));
    if (windows == 0)
        throw Error("evaluation: the text has fewer tokens than one window of " + std::to_string(ctx));
    ReferenceWindows ref;
    ref.ctx = ctx;
    ref.perplexity.ctx = ctx;
    if (progress)
        progress->beginStage("evaluating the original model");
    for (std::size_t w = 0; w < windows; ++w) {
        const auto window = tokens.subspan(w * std::size_t(ctx), std::size_t(ctx));
        ref.windows.emplace_back(window.begin(), window.end());
        ref.logits.push_back(original.forward(window));
        const double nll = sumNll(ref.logits.back(), window.subspan(1), 0);
        ref.perplexity.windowNll.push_back(nll);
        ref.perplexity.totalNll += nll;
        ref.perplexity.predicted += std::int64_t(ctx - 1);
        if (progress)
            progress->report(double(w + 1) / double(windows));
    }
    return ref;
}

ModelEvaluation evaluateAgainst(const ReferenceWindows& reference, const runtime::Transformer& model,
                                jobs::Progress* progress)
{
    ModelEvaluation e;
    e.perplexity.ctx = reference.ctx;
    LogitComparer cmp;
    if (progress)
        progress->beginStage("evaluating the quantized model");
    for (std::size_t w = 0; w < reference.windows.size(); ++w) {
        const auto& window = reference.windows[w];
        const runtime::Mat logits = model.forward(window);
        const double nll = sumNll(logits, std::span<const std::int32_t>(window).subspan(1), 0);
        e.perplexity.windowNll.push_back(nll);
        e.perplexity.totalNll += nll;
        e.perplexity.predicted += std::int64_t(window.size() - 1);
        cmp.add(reference.logits[w], logits);
        if (progress)
            progress->report(double(w + 1) / double(reference.windows.size()));
    }
    e.vsOriginal = cmp.result();
    return e;
}

} // namespace qs::eval
