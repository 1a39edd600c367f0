#pragma once
// Exporting a model (original or quantized in memory) to files other tools load: GGUF for
// llama.cpp, HF GPTQ/AWQ/bitsandbytes-NF4 for transformers and vLLM, SmoothQuant W8A8.
// Every format is written through safe_output (space check, temporary, re-open and compare
// every tensor, atomic rename), so an error or a cancel leaves nothing behind.
#include "core/jobs/progress.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/llama_weights.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qs::exporting {

enum class ExportFormat { Gguf, Gptq, Awq, BnbNf4, W8a8 };

const char* exportFormatName(ExportFormat f);             // "gguf", "gptq", "awq", "bnb-nf4", "w8a8"
const std::vector<std::string>& exportFormatNames();
ExportFormat parseExportFormat(const std::string& name);  // throws qs::Error listing the choices
// Whether the output is one file (GGUF) or a folder (the HF formats).
bool exportsFolder(ExportFormat f);

struct ExportOptions {
    bool verify = true;       // re-open the written output and compare every tensor (always on in the GUI/CLI)
    bool bf16 = false;        // HF formats: unquantized tensors in bf16 instead of f16
    bool gptqV2 = false;      // HF GPTQ: gptq_v2 zero points (no "minus one")
};

struct ExportRequest {
    // The original model: its config, tokenizer files and checkpoint (read for the tensors the
    // weights below do not hold, and for the metadata copied into the output).
    const model::Model* source = nullptr;
    // The weights to write: those of a model quantized in place by quant::quantizeModel (its
    // linears then hold compute::WeightMatrix results), or null to load the original weights.
    const runtime::LlamaWeights* weights = nullptr;
    // The quantization that produced `weights` (method and settings); null for a plain conversion.
    const quant::QuantizationRun* run = nullptr;
    ExportFormat format = ExportFormat::Gguf;
    // GGUF: the file type (ggml's names): "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K_M",
    // "Q4_K_S", "Q6_K". With a method run, linears the method quantized to 4-bit groups of 32 are
    // written as Q4_0/Q4_1 without requantizing; this type covers every other tensor.
    std::string ggufType = "Q4_K_M";
    std::filesystem::path output;
    ExportOptions options;
};

struct ExportResult {
    std::filesystem::path path;
    std::uint64_t bytes = 0;
    double seconds = 0;
    int tensors = 0;               // tensors written
    int tensorsVerified = 0;       // tensors re-read from the output and compared
    double maxVerifyError = 0;     // worst max|a-b| / max|a| between the written and the in-memory tensor
    std::vector<std::string> notes; // e.g. "requantized 42 linears (int4 g128) to Q4_K: added rel. error 3.1e-3"
};

// Dispatches by format. Throws qs::Error (naming the file) on bad input or a failed
// verification, jobs::Cancelled on cancel; in both cases nothing is left at request.output.
ExportResult exportModel(const ExportRequest& request, jobs::Progress* progress = nullptr);

} // namespace qs::exporting
