#pragma once
// BPE tokenizers of both kinds that LLM checkpoints ship:
//  - byte-level (GPT-2, Llama-3, Qwen): a pre-tokenizer split regex (PCRE2, \p{L} etc.),
//    bytes mapped to printable unicode, merges by rank;
//  - sentencepiece-style (Llama-2, Mistral): spaces as U+2581 (metaspace), an optional
//    leading U+2581, merges by rank, unknown characters as <0xNN> byte tokens (byte fallback).
// Both HF tokenizer.json and GGUF tokenizer.ggml.* metadata are turned into a TokenizerSpec.
#include "core/io/tokenizer_pipeline.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qs::io {

struct TokenizerSpec {
    enum class Kind { ByteLevel, SentencePiece };
    Kind kind = Kind::ByteLevel;

    std::vector<std::string> vocab;                           // id -> token string
    std::vector<std::pair<std::string, std::string>> merges;  // in rank order

    struct AddedToken {
        std::int32_t id = 0;
        std::string content;
        bool special = false;    // dropped by decode(skipSpecial)
        bool normalized = false; // matched in the normalized text instead of the raw text
        bool lstrip = false;     // the match swallows whitespace on its left
        bool rstrip = false;     // ... and on its right
        bool singleWord = false; // only matched when not inside a word
    };
    std::vector<AddedToken> addedTokens; // matched (leftmost-longest) before the model runs

    // Byte-level: the split regexes of the pre-tokenizer, applied in order (empty = GPT-2's).
    std::vector<std::string> splitPatterns;
    // Sentencepiece-style: prepend U+2581 to the text (add_dummy_prefix / prepend_scheme).
    bool addPrefixSpace = true;
    bool byteFallback = true;
    std::optional<std::int32_t> unkId;

    std::optional<std::int32_t> bosId;
    std::optional<std::int32_t> eosId;
    bool addBos = false; // encode(..., addSpecial=true) prepends BOS
    bool addEos = false; // and appends EOS

    // The exact tokenizer.json stages (set by parseHfJson); absent: derived from kind.
    std::optional<TokenizerPipeline> pipeline;
};

class Tokenizer {
public:
    explicit Tokenizer(TokenizerSpec spec); // throws qs::Error on an inconsistent spec
    ~Tokenizer();
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;

    // tokenizer.json (+ the given tokenizer_config.json for BOS/EOS and add_bos_token/add_eos_token;
    // when none is given, BOS/EOS come from the post_processor template). Throws FormatError
    // naming the file for anything malformed or unsupported.
    static Tokenizer fromHfFiles(const std::filesystem::path& tokenizerJson,
                                 const std::optional<std::filesystem::path>& tokenizerConfigJson = std::nullopt);
    static TokenizerSpec parseHfJson(const std::string& json, const std::string& fileNameForErrors);

    // Invalid UTF-8 in text is replaced by U+FFFD (maximal subparts, as Python's
    // errors="replace" does) before tokenizing: HF tokenizers only ever sees valid str.
    // Thread-safe (the word cache is locked).
    std::vector<std::int32_t> encode(std::string_view text, bool addSpecial = false) const;
    // Ids outside the vocabulary are skipped, as HF does.
    std::string decode(const std::vector<std::int32_t>& ids, bool skipSpecial = false) const;

    std::size_t vocabSize() const;
    const TokenizerSpec& spec() const;
    std::optional<std::int32_t> tokenId(std::string_view token) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace qs::io
