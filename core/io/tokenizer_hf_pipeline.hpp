#pragma once
// The normalizer / pre_tokenizer / decoder / post_processor sections of tokenizer.json.
#include "core/io/tokenizer_json_reader.hpp"

#include <cstdint>
#include <vector>

namespace qs::io {

struct ParsedPipeline {
    TokenizerPipeline pipeline;          // normalizers, pre-tokenizers, decoders
    std::vector<std::int32_t> before;    // ids the post-processor puts before the text
    std::vector<std::int32_t> after;     // ... and after it
};

ParsedPipeline parseHfPipeline(const JsonReader& reader, const nlohmann::json& root);

} // namespace qs::io
