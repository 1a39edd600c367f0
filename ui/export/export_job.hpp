#pragma once
// The export job (worker side): quantize the model with one method (calibrated on the demo's
// calibration text with the compare run's preset) or none, then write it in the chosen format.
// Plain C++ so the job runner can carry it to a worker; cancel through the Progress.
#include "core/export/export.hpp"
#include "core/quant/quant_config.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace qs::ui {

struct ExportJobSettings {
    std::optional<quant::QuantConfig> method; // none: the original weights
    std::string calibrationPreset = "quick";  // calib::calibrationPresets
    bool preferGpu = false;
    exporting::ExportFormat format = exporting::ExportFormat::Gguf;
    std::string ggufType = "Q4_K_M";
    std::filesystem::path output;
};

exporting::ExportResult runExportJob(const model::Model& model, const ExportJobSettings& settings,
                                     jobs::Progress& progress);

} // namespace qs::ui
