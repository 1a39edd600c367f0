#include "ui/export/export_job.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/compute/backend.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/quant/method.hpp"
#include "core/quant/pipeline.hpp"
#include "core/util/error.hpp"

#include <memory>

namespace qs::ui {

exporting::ExportResult runExportJob(const model::Model& model, const ExportJobSettings& settings,
                                     jobs::Progress& progress)
{
    exporting::ExportRequest request;
    request.source = &model;
    request.format = settings.format;
    request.ggufType = settings.ggufType;
    request.output = settings.output;
    if (!settings.method)
        return exporting::exportModel(request, &progress);

    const quant::QuantConfig& config = *settings.method;
    std::unique_ptr<calib::CalibrationSet> calibration;
    if (quant::makeMethod(config)->needsCalibration()) {
        if (!model.tokenizer)
            throw Error(model.source.string() + ": " + config.method + " needs calibration text but the model has no usable tokenizer");
        progress.beginStage("reading the calibration text");
        const auto& preset = calib::calibrationPreset(settings.calibrationPreset);
        calibration = std::make_unique<calib::CalibrationSet>(calib::calibrationSetFromFile(
            (io::demoModelPath() / "calibration.txt").string(), *model.tokenizer, preset.samples, preset.length,
            config.seed, int(model.spec.maxPositionEmbeddings)));
    }
    progress.beginStage("loading weights");
    runtime::Transformer quantized(runtime::loadLlamaWeights(model));
    const quant::QuantizationRun run = quant::quantizeModel(quantized, config, calibration.get(),
                                                            compute::makeBackend(settings.preferGpu), &progress);
    request.weights = &quantized.weights();
    request.run = &run;
    return exporting::exportModel(request, &progress);
}

} // namespace qs::ui
