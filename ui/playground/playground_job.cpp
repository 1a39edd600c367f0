#include "ui/playground/playground_job.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/compute/backend.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/quant/method.hpp"
#include "core/quant/pipeline.hpp"
#include "core/util/error.hpp"

#include <chrono>
#include <string_view>

namespace qs::ui {

namespace {

const io::Tokenizer& requireTokenizer(const model::Model& model)
{
    if (!model.tokenizer)
        throw Error(model.source.string() + ": the model has no usable tokenizer" +
                    (model.tokenizerError.empty() ? std::string() : " (" + model.tokenizerError + ")"));
    return *model.tokenizer;
}

} // namespace

TransformerPtr loadOriginalTransformer(const model::Model& model, jobs::Progress& progress)
{
    progress.beginStage("loading weights");
    auto t = std::make_shared<runtime::Transformer>(runtime::loadLlamaWeights(model));
    progress.report(1.0);
    return t;
}

TransformerPtr quantizeTransformer(const model::Model& model, const quant::QuantConfig& config,
                                   const std::string& calibrationPreset, jobs::Progress& progress)
{
    const io::Tokenizer& tokenizer = requireTokenizer(model);
    const bool calibrate = quant::makeMethod(config)->needsCalibration(); // also validates config
    progress.beginStage("loading weights");
    auto t = std::make_shared<runtime::Transformer>(runtime::loadLlamaWeights(model));
    calib::CalibrationSet calibration;
    if (calibrate) {
        progress.beginStage("reading calibration text");
        const auto& preset = calib::calibrationPreset(calibrationPreset);
        calibration = calib::calibrationSetFromFile((io::demoModelPath() / "calibration.txt").string(), tokenizer,
                                                    preset.samples, preset.length, config.seed,
                                                    int(model.spec.maxPositionEmbeddings));
    }
    std::shared_ptr<compute::Backend> backend = compute::makeCpuBackend();
    quant::quantizeModel(*t, config, calibrate ? &calibration : nullptr, backend, &progress);
    return t;
}

GenerationStats streamGeneration(const runtime::Transformer& transformer, const io::Tokenizer& tokenizer,
                                 const std::string& prompt, runtime::SamplingOptions options,
                                 const TextSink& onText, jobs::Progress& progress)
{
    const std::vector<std::int32_t> ids = tokenizer.encode(prompt, true);
    if (ids.empty())
        throw Error("the prompt is empty");
    if (!options.stopToken)
        options.stopToken = tokenizer.spec().eosId;
    GenerationStats stats;
    std::vector<std::int32_t> generated;
    const auto t0 = std::chrono::steady_clock::now();
    // Decode everything so far and pass on the new suffix, holding back a trailing U+FFFD (a
    // character whose bytes are split over tokens) until it is complete.
    runtime::generate(transformer, ids, options, [&](std::int32_t id) {
        generated.push_back(id);
        std::string text = tokenizer.decode(generated, true);
        static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
        while (text.ends_with(kReplacement))
            text.resize(text.size() - kReplacement.size());
        std::string delta;
        if (text.size() > stats.text.size() && text.compare(0, stats.text.size(), stats.text) == 0) {
            delta = text.substr(stats.text.size());
            stats.text = text;
        }
        stats.tokens = int(generated.size());
        stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (onText)
            onText(delta, stats.tokens, stats.seconds);
        return true;
    }, &progress);
    // The final text is the whole decode (it may differ from the streamed prefix only when the
    // last token left an incomplete character).
    stats.text = tokenizer.decode(generated, true);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

} // namespace qs::ui
