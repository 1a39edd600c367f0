#pragma once
// A PCRE2 regex compiled for UTF-8 with Unicode properties (\p{L}, \s, \w follow Unicode),
// JIT-compiled when available. Used for pre-tokenizer split patterns and Replace normalizers.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace qs::io {

class TokenizerRegex {
public:
    // Throws qs::Error with PCRE2's message and the offset in the pattern when it does not compile.
    explicit TokenizerRegex(const std::string& pattern);
    ~TokenizerRegex();
    TokenizerRegex(TokenizerRegex&&) noexcept;
    TokenizerRegex& operator=(TokenizerRegex&&) noexcept;

    // Calls onMatch(start, end) for each non-empty, non-overlapping match, left to right.
    // text must be valid UTF-8. Throws qs::Error when a match exceeds PCRE2's limits.
    void forEachMatch(std::string_view text, const std::function<void(std::size_t, std::size_t)>& onMatch) const;
    // Whether the whole text matches (anchored at both ends).
    bool matchesWhole(std::string_view text) const;

    const std::string& pattern() const { return pattern_; }

private:
    struct Code;
    std::string pattern_;
    std::unique_ptr<Code> code_;
};

} // namespace qs::io
