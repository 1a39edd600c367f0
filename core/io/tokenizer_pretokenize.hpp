#pragma once
// Normalizers and pre-tokenizers of a TokenizerPipeline, compiled once (regexes) and applied
// to the pieces of text between added tokens, with HF tokenizers' splitting semantics.
#include "core/io/tokenizer_pipeline.hpp"
#include "core/io/tokenizer_regex.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qs::io {

// GPT-2's split pattern, used by the ByteLevel pre-tokenizer with use_regex.
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class TokenizerStages {
public:
    // Throws qs::Error when a pattern does not compile.
    explicit TokenizerStages(const TokenizerPipeline& pipeline);
    ~TokenizerStages();

    // Normalizers in order; empty text stays empty (Prepend skips it, as HF does).
    std::string normalize(std::string_view text) const;

    // Pre-tokenizers in order; appends the non-empty words. atOrigin: the text starts at
    // offset 0 of the original input (Metaspace's prepend_scheme "first" needs it).
    void preTokenize(std::string text, bool atOrigin, std::vector<std::string>& words) const;

private:
    struct Piece {
        std::string text;
        bool atOrigin;
    };
    std::vector<Piece> split(const Piece& piece, const TokenizerRegex* regex, std::string_view literal, bool invert,
                             TokenizerPipeline::SplitBehavior behavior) const;

    const TokenizerPipeline& pipeline_;
    std::vector<std::unique_ptr<TokenizerRegex>> normalizerRegex_; // per normalizer, null if none
    std::vector<std::unique_ptr<TokenizerRegex>> preTokenizerRegex_;
    std::unique_ptr<TokenizerRegex> gpt2_;
    std::unique_ptr<TokenizerRegex> digit_;
};

// Replace every non-overlapping occurrence of a literal (empty pattern: no change).
std::string replaceAll(std::string_view text, std::string_view from, std::string_view to);

} // namespace qs::io
