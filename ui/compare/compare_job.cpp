#include "ui/compare/compare_job.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/error.hpp"
#include "core/util/text_file.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace qs::ui {

std::shared_ptr<CompareResults> runCompare(const model::Model& model, const CompareSettings& settings,
                                           const ProgressFactory& progressFor)
{
    if (!model.tokenizer)
        throw Error(model.source.string() + ": the model has no usable tokenizer" +
                    (model.tokenizerError.empty() ? std::string() : " (" + model.tokenizerError + ")"));
    auto out = std::make_shared<CompareResults>();
    auto setup = progressFor("");
    setup.beginStage("loading weights and texts");
    std::shared_ptr<compute::Backend> backend = compute::makeBackend(settings.preferGpu);
    out->backendName = backend->name();

    const auto demo = io::demoModelPath();
    const int maxCtx = int(model.spec.maxPositionEmbeddings);
    const auto& preset = calib::calibrationPreset(settings.calibrationPreset);
    const calib::CalibrationSet calibration = calib::sampleWindows(
        model.tokenizer->encode(readTextFile(settings.calibrationText.empty()
                                             ? demo / "calibration.txt"
                                             : std::filesystem::path(settings.calibrationText))),
        preset.samples, preset.length, settings.seed, maxCtx);
    out->calibrationSamples = int(calibration.samples.size());
    out->calibrationLength = calibration.length;
    const auto evalTokens = model.tokenizer->encode(readTextFile(demo / "evaluation.txt"));
    setup.checkCancelled();

    eval::ReferenceWindows reference;
    {
        const runtime::Transformer original(runtime::loadLlamaWeights(model));
        auto refProgress = progressFor("reference: ");
        const int ctx = maxCtx > 0 ? std::min(settings.evalContext, maxCtx) : settings.evalContext;
        reference = eval::computeReference(original, evalTokens, ctx, settings.evalWindows, &refProgress);
    }
    out->evalContext = reference.ctx;
    out->evalWindows = int(reference.windows.size());
    out->originalPerplexity = reference.perplexity.perplexity();

    auto kept = std::make_shared<KeptLayers>(kKeptLayersBudget);
    const int n = int(settings.methods.size());
    for (int i = 0; i < n; ++i) {
        const std::string& name = settings.methods[std::size_t(i)];
        MethodResult r;
        r.method = name;
        const quant::QuantConfig config = settings.configFor(name);
        r.config = config.describe();
        auto progress = progressFor("[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + name + ": ");
        const auto t0 = std::chrono::steady_clock::now();
        try {
            progress.beginStage("loading weights");
            runtime::Transformer quantized(runtime::loadLlamaWeights(model)); // fresh for every method
            KeepLayerWeights keep(*kept, name);
            const quant::ScopedLayerWeightObserver observing(&keep);
            r.run = quant::quantizeModel(quantized, config, &calibration, backend, &progress);
            r.eval = eval::evaluateAgainst(reference, quantized, &progress);
        } catch (const jobs::Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            r.error = e.what();
            spdlog::warn("compare: {} failed: {}", name, e.what());
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        out->methods.push_back(std::move(r));
    }
    if (kept->skipped() > 0)
        spdlog::info("compare: {} layer weights not kept (budget {} MiB spent)", kept->skipped(), kKeptLayersBudget >> 20);
    out->kept = std::move(kept);
    return out;
}

} // namespace qs::ui
