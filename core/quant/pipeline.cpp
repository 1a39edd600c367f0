#include "core/quant/pipeline.hpp"

#include "core/util/error.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

namespace qs::quant {

double QuantizationRun::meanOutputError() const
{
    if (layers.empty())
        return 0;
    double s = 0;
    for (const auto& l : layers)
        s += l.outputRelError;
    return s / double(layers.size());
}

double QuantizationRun::worstOutputError() const
{
    double m = 0;
    for (const auto& l : layers)
        m = std::max(m, l.outputRelError);
    return m;
}

std::uint64_t peakRssBytes()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024ull;
    return 0;
}

QuantizationRun quantizeModel(runtime::Transformer& model, const QuantConfig& config,
                              const calib::CalibrationSet* calibration, std::shared_ptr<compute::Backend> backend,
                              jobs::Progress* progress)
{
    const auto t0 = std::chrono::steady_clock::now();
    auto method = makeMethod(config);
    if (method->needsCalibration() && !calibration)
        throw Error(config.method + " needs calibration data");
    QuantizationRun run;
    run.config = config;
    MethodContext ctx{std::move(backend), &config, progress};
    if (calibration) {
        // Hessians summed on the method's backend (in device memory on a GPU).
        calib::CaptureOptions capture = method->captureOptions();
        if (!capture.backend)
            capture.backend = ctx.backend;
        if (capture.batchRows == 0)
            capture.batchRows = config.calibBatchRows;
        calib::streamCalibration(model, *calibration, capture,
                                 [&](calib::BlockCalibration& cal) { method->quantizeBlock(model, &cal, ctx, run.layers); },
                                 progress);
    } else {
        const int blocks = int(model.weights().blocks.size());
        for (int b = 0; b < blocks; ++b) {
            if (progress) {
                progress->beginStage("quantizing block " + std::to_string(b + 1) + " of " + std::to_string(blocks));
                progress->checkCancelled();
            }
            calib::BlockCalibration cal;
            cal.block = b;
            // No statistics: a method that needs none reads only cal.block.
            method->quantizeBlock(model, &cal, ctx, run.layers);
        }
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    run.peakRssBytes = peakRssBytes();

    double bits = 0;
    for (const auto& l : run.layers) {
        const auto& op = *model.weights().blocks[std::size_t(l.block)].linear(l.role);
        const std::int64_t n = std::int64_t(op.inFeatures()) * op.outFeatures();
        run.quantizedWeights += n;
        bits += l.bitsPerWeight * double(n);
    }
    run.bitsPerWeight = run.quantizedWeights ? bits / double(run.quantizedWeights) : 0;
    const auto& spec = model.spec();
    const std::int64_t embed = spec.vocabSize * spec.hiddenSize;
    const std::int64_t norms = spec.numLayers * 2 * spec.hiddenSize + spec.hiddenSize;
    const std::int64_t others = embed * (spec.tieWordEmbeddings ? 1 : 2) + norms;
    run.modelBytes = std::uint64_t(bits / 8.0) + std::uint64_t(others) * 2u;
    return run;
}

} // namespace qs::quant
