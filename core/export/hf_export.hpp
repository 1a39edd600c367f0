#pragma once
// Hugging Face quantized formats (implemented in core/export/hf_*.cpp). exportModel dispatches
// here by format; each writes a folder through writeSafely (safe_output.hpp) and fills an
// ExportResult the same way the GGUF writer does (bytes, tensors verified, max verify error,
// notes). Each requires request.weights and request.run from a method whose result the format
// holds (GPTQ/AWQ: int4 groupwise; NF4: nf4; W8A8: smoothquant) and throws qs::Error otherwise.
#include "core/export/export.hpp"

namespace qs::exporting {

ExportResult exportHfGptq(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfAwq(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfBnbNf4(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfW8a8(const ExportRequest& request, jobs::Progress* progress);

} // namespace qs::exporting
