#pragma once
// The BPE model: one pre-tokenized word -> token ids, merging symbol pairs by rank exactly as
// HF tokenizers' BPE does (a min-heap of (rank, position), lowest rank first, leftmost first).
#include <array>
#include <cstdint>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qs::io {

struct BpeOptions {
    bool byteFallback = false; // unknown characters as <0xNN> tokens
    bool fuseUnk = false;
    bool ignoreMerges = false;
    std::int32_t unkId = -1;   // -1: unknown characters are dropped (as HF does without unk)
};

class BpeModel {
public:
    // vocab: token -> id; merges: (left id, right id, merged id) in rank order. A later
    // duplicate pair overrides an earlier one (HF builds a map from the list).
    BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
             const std::vector<std::array<std::int32_t, 3>>& merges, BpeOptions options);

    // Appends the ids of one word. Cached: repeated words cost one lookup.
    void tokenize(std::string_view word, std::vector<std::int32_t>& out) const;

    std::optional<std::int32_t> find(std::string_view token) const;

private:
    void tokenizeCached(std::string_view word, std::vector<std::int32_t>& out) const;
    std::vector<std::int32_t> tokenizeUncached(std::string_view word) const;

    // Sentencepiece-style text without a pre-tokenizer reaches BPE as one long word. When no
    // merge can make a token with U+2581 inside it, no merge crosses the gap before a U+2581,
    // so the word is split there: same ids, but short cached pieces instead of one huge heap.
    bool splitBeforeMetaspace_ = false;

    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> vocab_;
    struct MergeTarget {
        std::int32_t rank;
        std::int32_t id;
    };
    std::unordered_map<std::uint64_t, MergeTarget> merges_;
    std::array<std::int32_t, 256> byteTokens_{}; // <0xNN> ids, -1 when absent
    BpeOptions options_;

    static constexpr std::size_t kCacheLimit = 200'000; // words; cleared when full
    static constexpr std::size_t kMaxCachedWord = 256;   // bytes; longer words are rare
    mutable std::mutex cacheMutex_;
    mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>> cache_;
};

} // namespace qs::io
