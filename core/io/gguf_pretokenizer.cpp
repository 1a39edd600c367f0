// The split regexes of the byte-level pre-tokenizers, in one place. They are the patterns the
// models' own tokenizer.json files carry (GPT-2's ByteLevel default, Llama 3's and Qwen2's
// Split pre-tokenizers); llama.cpp names them by tokenizer.ggml.pre.
#include "core/io/gguf_specs.hpp"

namespace qs::io::gguf {

const char* const kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Llama 3: case-insensitive contractions, digits in groups of up to three.
const char* const kLlama3SplitRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen2: as Llama 3 but every digit is its own piece.
const char* const kQwen2SplitRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<std::string> splitPatternsForPre(std::string_view pre, bool* known)
{
    if (known)
        *known = true;
    if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "smaug-bpe")
        return {kLlama3SplitRegex};
    if (pre == "qwen2")
        return {kQwen2SplitRegex};
    if (known && !(pre.empty() || pre == "default" || pre == "gpt2" || pre == "gpt-2"))
        *known = false;
    return {kGpt2SplitRegex};
}

} // namespace qs::io::gguf
