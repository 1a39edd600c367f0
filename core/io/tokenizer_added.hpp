#pragma once
// Finds added tokens in text the way HF tokenizers' AddedVocabulary does: leftmost-longest
// matches (Aho-Corasick semantics) over a byte trie, then single_word / lstrip / rstrip.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qs::io {

class AddedTokenMatcher {
public:
    struct Entry {
        std::string pattern; // what to find (the normalized content for normalized tokens)
        std::int32_t id = 0;
        bool lstrip = false, rstrip = false, singleWord = false;
    };
    struct Segment {
        std::size_t start, end;
        std::int32_t id; // -1: plain text between tokens
    };

    AddedTokenMatcher() = default;
    explicit AddedTokenMatcher(const std::vector<Entry>& entries);

    // Segments covering text in order (an empty text gives one empty plain segment).
    std::vector<Segment> split(std::string_view text) const;

private:
    struct Node {
        std::map<unsigned char, std::int32_t> next;
        std::int32_t entry = -1;
    };
    std::vector<Node> nodes_{Node{}};
    std::vector<Entry> entries_;
    bool firstByte_[256] = {};
};

} // namespace qs::io
