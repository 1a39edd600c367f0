#pragma once
// GGUF metadata turned into the format-independent specs: the architecture (general.* and
// <arch>.* keys) and the tokenizer (tokenizer.ggml.* keys).
#include "core/io/checkpoint.hpp"
#include "core/io/gguf_metadata.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/arch_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace qs::io::gguf {

model::ArchSpec archSpecFrom(const Values& values, const std::vector<TensorInfo>& tensors, const std::string& file);

TokenizerSpec tokenizerSpecFrom(const Values& values, const std::string& file);

// The byte-level pre-tokenizer split regexes for a tokenizer.ggml.pre name. Known names:
// "llama-bpe"/"llama3"/"llama-v3"/"smaug-bpe" (Llama 3), "qwen2", "default"/"gpt2".
// Unknown names get GPT-2's regex; `known` says whether the name was recognised.
std::vector<std::string> splitPatternsForPre(std::string_view pre, bool* known = nullptr);

// The regexes themselves (PCRE2 syntax, as the HF tokenizer.json files spell them).
extern const char* const kGpt2SplitRegex;
extern const char* const kLlama3SplitRegex;
extern const char* const kQwen2SplitRegex;

} // namespace qs::io::gguf
