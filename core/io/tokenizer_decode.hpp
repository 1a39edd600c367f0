#pragma once
// HF tokenizers' decoders: token strings -> text.
#include "core/io/tokenizer_pipeline.hpp"

#include <string>
#include <vector>

namespace qs::io {

// Runs the pipeline's decoders over the tokens and concatenates the result; without a
// decoder the tokens are joined with spaces (HF's behaviour).
std::string runDecoders(const TokenizerPipeline& pipeline, std::vector<std::string> tokens);

} // namespace qs::io
