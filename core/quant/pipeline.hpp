#pragma once
// The main job: quantize a model with one method, block by block as calibration streams
// through it, and report per linear and for the whole model.
#include "core/calib/calibration_set.hpp"
#include "core/quant/method.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace qs::quant {

struct QuantizationRun {
    QuantConfig config;
    std::vector<LayerReport> layers;
    double seconds = 0;
    std::uint64_t peakRssBytes = 0;     // of the whole process, as the kernel reports it
    std::int64_t quantizedWeights = 0;  // elements in the quantized linears
    double bitsPerWeight = 0;           // over the quantized linears, metadata included
    std::uint64_t modelBytes = 0;       // quantized linears + every other tensor in f16

    double meanOutputError() const;
    double worstOutputError() const;
};

// Quantizes model in place. calibration may be null for methods that need none (then no
// output error is reported). Cancellable through progress.
QuantizationRun quantizeModel(runtime::Transformer& model, const QuantConfig& config,
                              const calib::CalibrationSet* calibration, std::shared_ptr<compute::Backend> backend,
                              jobs::Progress* progress = nullptr);

std::uint64_t peakRssBytes(); // VmHWM of this process

} // namespace qs::quant
