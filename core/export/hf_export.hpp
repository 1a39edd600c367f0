#pragma once
// Hugging Face quantized formats (implemented in core/export/hf_*.cpp). exportModel dispatches
// here by format; each writes a folder through writeSafely (safe_output.hpp) and fills an
// ExportResult the same way the GGUF writer does (bytes, tensors verified, max verify error,
// notes). Each requires request.weights and request.run from a method whose result the format
// holds (GPTQ: int2/3/4 groupwise or GPTQ's 8-bit per channel; AWQ: int4 groupwise without
// act-order; NF4: nf4; W8A8: smoothquant) and throws qs::Error otherwise.
// Layouts: core/io/hf_quant_packing.hpp (GPTQ, AWQ), core/io/hf_bnb_nf4.hpp, docs/formats/w8a8.md.
#include "core/compute/weight_formats.hpp"
#include "core/export/export.hpp"

#include <string>

namespace qs::exporting {

ExportResult exportHfGptq(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfAwq(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfBnbNf4(const ExportRequest& request, jobs::Progress* progress);
ExportResult exportHfW8a8(const ExportRequest& request, jobs::Progress* progress);

// What an HF export of format f stores for a quantized weight: GPTQ/AWQ scales rounded to f16
// (codes, zeros, g_idx exact); NF4 and W8A8 unchanged (absmax, scales kept in f32).
compute::WeightMatrix asExported(const compute::WeightMatrix& w, ExportFormat f);
// Whether a and b compute the same weight exactly: same codes, scales and zero points (a
// symmetric grid's implied 2^(bits-1) equals an explicit one), same g_idx (empty = k / group).
// On a difference, *why (when given) names the first one.
bool sameWeights(const compute::WeightMatrix& a, const compute::WeightMatrix& b, std::string* why = nullptr);
// Rounds a model in place to what an HF export of format f stores (asExported for the block
// linears; embeddings, norms, lm_head and biases to f16, or bf16): the model the re-opened
// export must equal exactly.
void roundLikeHfExport(runtime::LlamaWeights& w, ExportFormat f, bool bf16);

} // namespace qs::exporting
