#pragma once
// The metadata llama.cpp needs to run a Llama-family GGUF, as its convert_hf_to_gguf.py writes
// it: general.*, <arch>.* hyper-parameters and rope, and tokenizer.ggml.* built from the
// model's tokenizer (tokenizer.json, or copied from a GGUF source).
#include "core/export/gguf_file_types.hpp"
#include "core/export/gguf_writer.hpp"
#include "core/model/model.hpp"

#include <string>
#include <vector>

namespace qs::exporting {

// general.architecture for the spec: "llama" (Llama and Mistral, as llama.cpp's converter
// writes both), "qwen2", "qwen3". Throws qs::Error for anything else.
std::string ggufArchitecture(const model::ArchSpec& spec);
// Whether the converter permutes q/k rows for ggml's interleaved RoPE ("llama" only).
bool ggufPermutesQk(const model::ArchSpec& spec);

void addModelMetadata(GgufFileWriter& w, const model::Model& source, const model::ArchSpec& spec,
                      const GgufFileType& fileType);

// tokenizer.ggml.*; appends a note when the model has no tokenizer or an unknown pre-tokenizer.
void addTokenizerMetadata(GgufFileWriter& w, const model::Model& source, std::int64_t vocabSize,
                          std::vector<std::string>& notes);

// llama.cpp's rope_freqs.weight for rope_type "llama3" (one factor per rotary pair); empty
// for any other rope.
std::vector<float> llama3RopeFactors(const model::ArchSpec& spec);

} // namespace qs::exporting
