#pragma once
// Consistency checks of a TokenizerSpec, shared by the Tokenizer constructor (qs::Error) and
// the tokenizer.json parser (FormatError naming the file), and the pipeline a spec without
// one gets from its kind.
#include "core/io/tokenizer.hpp"

#include <optional>
#include <string>

namespace qs::io {

// The first problem found, or nullopt when the spec is consistent.
std::optional<std::string> findSpecProblem(const TokenizerSpec& spec);

// Byte-level: Split(pattern) for each splitPattern (GPT-2's when none) + ByteLevel decoder.
// Sentencepiece-style: Prepend(U+2581) + Replace(" ", U+2581); Replace/ByteFallback/Fuse/Strip.
TokenizerPipeline defaultPipeline(const TokenizerSpec& spec);

} // namespace qs::io
