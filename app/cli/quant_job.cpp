#include "quant_job.hpp"

#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"
#include "core/util/text_file.hpp"

#include <cstdio>

namespace qs::cli {

jobs::Progress consoleProgress(bool quiet)
{
    if (quiet)
        return {};
    return jobs::Progress(
        [](const jobs::ProgressUpdate& u) {
            std::fprintf(stderr, "\r\033[K%s: %3.0f%%", u.stage.c_str(), 100.0 * u.fraction);
            if (u.fraction >= 1.0)
                std::fprintf(stderr, "\n");
        },
        nullptr);
}

QuantSession prepareSession(const QuantRunOptions& o)
{
    QuantSession s;
    s.model = model::openModel(o.model);
    if (!s.model.tokenizer)
        throw Error(s.model.source.string() + ": the model has no usable tokenizer" +
                    (s.model.tokenizerError.empty() ? std::string() : " (" + s.model.tokenizerError + ")"));
    s.backend = o.gpu ? compute::makeBackend(true) : compute::makeCpuBackend();
    const auto demo = io::demoModelPath();
    const std::string calibPath = o.calibText.empty() ? (demo / "calibration.txt").string() : o.calibText;
    const std::string evalPath = o.evalText.empty() ? (demo / "evaluation.txt").string() : o.evalText;
    const int maxCtx = int(s.model.spec.maxPositionEmbeddings);
    s.calibration = calib::sampleWindows(s.model.tokenizer->encode(readTextFile(calibPath, "calibration text")), o.samples, o.seqlen,
                                         o.config.seed, maxCtx);
    const runtime::Transformer original(runtime::loadLlamaWeights(s.model));
    const auto evalTokens = s.model.tokenizer->encode(readTextFile(evalPath, "evaluation text"));
    auto progress = consoleProgress(o.json);
    s.reference = eval::computeReference(original, evalTokens, maxCtx > 0 ? std::min(o.ctx, maxCtx) : o.ctx,
                                         o.evalWindows, &progress);
    return s;
}

MethodOutcome runMethod(QuantSession& s, const QuantRunOptions& o, const quant::QuantConfig& config)
{
    runtime::Transformer model(runtime::loadLlamaWeights(s.model));
    auto progress = consoleProgress(o.json);
    MethodOutcome out;
    out.run = quant::quantizeModel(model, config, &s.calibration, s.backend, &progress);
    out.eval = eval::evaluateAgainst(s.reference, model, &progress);
    return out;
}

} // namespace qs::cli
