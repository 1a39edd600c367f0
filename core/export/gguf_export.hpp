#pragma once
// GGUF export of a Llama-family model (original or quantized in memory): tensor names and the
// q/k row permutation as llama.cpp's convert_hf_to_gguf writes them, the file type's per-tensor
// types (gguf_file_types.hpp), 4-bit group-32 method results as Q4_0/Q4_1 without
// requantizing. Written through writeSafely; verification re-opens the file with the project's
// GGUF reader and requires every tensor to decode to exactly what was written.
#include "core/export/export.hpp"

namespace qs::exporting {

ExportResult exportGguf(const ExportRequest& request, jobs::Progress* progress);

// The permutation llama.cpp applies to q_proj/k_proj rows of Llama models (LlamaModel.permute):
// GGUF row h*D + 2i + s holds HF row h*D + s*D/2 + i. Returns, per GGUF row, its HF row.
std::vector<int> llamaQkRowOrder(int rows, int heads);

} // namespace qs::exporting
