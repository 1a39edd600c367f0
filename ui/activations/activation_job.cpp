#include "ui/activations/activation_job.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/error.hpp"
#include "core/util/text_file.hpp"
#include "ui/metrics/linear_scan.hpp"

#include <chrono>

namespace qs::ui {

namespace {


const analysis::LinearProfile& linearAt(const ActivationRun& run, int linear)
{
    if (linear < 0 || std::size_t(linear) >= run.profile.linears.size())
        throw Error("activation profile: no linear #" + std::to_string(linear));
    return run.profile.linears[std::size_t(linear)];
}

} // namespace

std::shared_ptr<const ActivationRun> runActivationProfile(const model::Model& model,
                                                          const ActivationRunSettings& settings,
                                                          jobs::Progress& progress)
{
    if (!model.tokenizer)
        throw Error(model.source.string() + ": the model has no usable tokenizer" +
                    (model.tokenizerError.empty() ? std::string() : " (" + model.tokenizerError + ")"));
    const auto t0 = std::chrono::steady_clock::now();
    progress.beginStage("loading weights and calibration text");
    const auto& preset = calib::calibrationPreset(settings.preset);
    const auto tokens = model.tokenizer->encode(readTextFile(io::demoModelPath() / "calibration.txt"));
    const calib::CalibrationSet set = calib::sampleWindows(tokens, preset.samples, preset.length, settings.seed,
                                                           int(model.spec.maxPositionEmbeddings));
    runtime::Transformer transformer(runtime::loadLlamaWeights(model));
    progress.checkCancelled();

    auto run = std::make_shared<ActivationRun>();
    run->settings = settings;
    run->profile = analysis::profileActivations(transformer, set, settings.sampleRows, settings.seed, &progress);
    const std::vector<LinearEntry> entries = findLinears(model);
    for (const auto& l : run->profile.linears) {
        std::string name;
        for (const auto& e : entries)
            if (e.block == l.block && e.role == int(l.role))
                name = e.tensorName;
        run->tensorNames.push_back(name);
    }
    run->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return run;
}

analysis::SmoothedInt8Error int8ErrorAtAlpha(const ActivationRun& run, int linear, const runtime::Mat& weight,
                                             float alpha)
{
    const auto& l = linearAt(run, linear);
    const auto& site = run.profile.siteOf(l);
    const runtime::Vec s = quant::smoothingScalesFromAbsmax(site.absmax, l.groupWeightAbsmax, alpha);
    auto e = analysis::int8ErrorAfterSmoothing(site.sample, weight, s, site.absmax);
    e.alpha = alpha;
    return e;
}

std::shared_ptr<const LinearSmoothing> analyzeLinearSmoothing(const model::Model& model,
                                                              std::shared_ptr<const ActivationRun> run, int linear,
                                                              float alpha, jobs::Progress& progress)
{
    const auto& l = linearAt(*run, linear);
    const std::string& name = run->tensorNames[std::size_t(linear)];
    if (name.empty() || !model.checkpoint)
        throw Error(l.name + ": no weight tensor found in " + model.source.string());
    progress.beginStage("reading " + name);
    const Tensor t = model.checkpoint->readF32(name);
    if (t.shape.size() != 2 || std::int64_t(t.shape[1]) != l.weightAbsmax.size())
        throw Error(name + ": shape " + shapeToString(t.shape) + " does not match the profile's " +
                    std::to_string(l.weightAbsmax.size()) + " input channels");
    auto w = std::make_shared<runtime::Mat>(
        Eigen::Map<const runtime::Mat>(t.data.data(), Eigen::Index(t.shape[0]), Eigen::Index(t.shape[1])));
    auto out = std::make_shared<LinearSmoothing>();
    out->linear = linear;
    progress.beginStage("int8 errors over alpha for " + l.name);
    out->sweep = analysis::sweepAlpha(l, run->profile.siteOf(l), *w, kAlphaSweepSteps, &progress);
    out->atAlpha = int8ErrorAtAlpha(*run, linear, *w, alpha);
    out->weight = std::move(w);
    return out;
}

} // namespace qs::ui
