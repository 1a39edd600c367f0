#include "commands.hpp"

#include "core/eval/perplexity.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/runtime/generate.hpp"
#include "core/util/error.hpp"
#include "core/util/text_file.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace qs::cli {

static const io::Tokenizer& requireTokenizer(const model::Model& m)
{
    if (!m.tokenizer)
        throw Error(m.source.string() + ": the model has no usable tokenizer" +
                    (m.tokenizerError.empty() ? std::string() : " (" + m.tokenizerError + ")"));
    return *m.tokenizer;
}

int runEval(const EvalOptions& o)
{
    model::Model m = model::openModel(o.model);
    const auto& tok = requireTokenizer(m);
    const std::string textPath = o.text.empty() ? (io::demoModelPath() / "evaluation.txt").string() : o.text;
    const auto tokens = tok.encode(readTextFile(textPath));
    const auto t0 = std::chrono::steady_clock::now();
    runtime::Transformer model(runtime::loadLlamaWeights(m));
    const auto protocol = o.protocol == "second-half" ? eval::PplProtocol::SecondHalf : eval::PplProtocol::FullWindow;
    jobs::Progress progress(
        [&](const jobs::ProgressUpdate& u) {
            if (!o.json)
                std::fprintf(stderr, "\r%s: %3.0f%%", u.stage.c_str(), 100.0 * u.fraction);
        },
        nullptr);
    const auto r = eval::evaluatePerplexity(model, tokens, o.ctx, protocol, o.maxWindows, &progress);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!o.json)
        std::fprintf(stderr, "\n");
    if (o.json) {
        nlohmann::json j = {{"model", m.source.string()}, {"text", textPath}, {"ctx", r.ctx},
                            {"protocol", o.protocol}, {"windows", r.windowNll.size()},
                            {"text_tokens", tokens.size()}, {"predicted_tokens", r.predicted},
                            {"total_nll", r.totalNll}, {"perplexity", r.perplexity()}, {"seconds", secs},
                            {"window_nll", r.windowNll}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("Perplexity %.4f over %lld predicted tokens (%zu windows of %d, protocol %s) in %.1f s\n",
                    r.perplexity(), (long long)r.predicted, r.windowNll.size(), r.ctx, o.protocol.c_str(), secs);
    }
    return 0;
}

int runGenerate(const GenerateOptions& o)
{
    model::Model m = model::openModel(o.model);
    const auto& tok = requireTokenizer(m);
    runtime::Transformer model(runtime::loadLlamaWeights(m));
    auto prompt = tok.encode(o.prompt, true);
    runtime::SamplingOptions so;
    so.maxTokens = o.maxTokens;
    so.temperature = o.temperature;
    so.topP = o.topP;
    so.seed = o.seed;
    so.stopToken = tok.spec().eosId;
    std::printf("%s", o.prompt.c_str());
    std::fflush(stdout);
    // Decode incrementally: print only the new suffix so multi-token characters come out whole.
    std::vector<std::int32_t> generated;
    std::string shown;
    const auto t0 = std::chrono::steady_clock::now();
    runtime::generate(model, prompt, so, [&](std::int32_t id) {
        generated.push_back(id);
        const std::string text = tok.decode(generated, true);
        if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
            std::printf("%s", text.substr(shown.size()).c_str());
            std::fflush(stdout);
            shown = text;
        }
        return true;
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n");
    std::fprintf(stderr, "%zu tokens in %.2f s (%.1f tokens/s, prompt %zu tokens)\n", generated.size(), secs,
                 double(generated.size()) / secs, prompt.size());
    return 0;
}

} // namespace qs::cli
