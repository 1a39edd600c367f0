#include "core/io/tokenizer_added.hpp"

#include "core/io/tokenizer_regex.hpp"
#include "core/io/tokenizer_unicode.hpp"

#include <algorithm>

namespace qs::io {

AddedTokenMatcher::AddedTokenMatcher(const std::vector<Entry>& entries)
{
    for (const auto& e : entries) {
        if (e.pattern.empty())
            continue;
        std::int32_t node = 0;
        for (char c : e.pattern) {
            const auto b = static_cast<unsigned char>(c);
            auto it = nodes_[static_cast<std::size_t>(node)].next.find(b);
            if (it == nodes_[static_cast<std::size_t>(node)].next.end()) {
                nodes_.push_back({});
                const auto created = static_cast<std::int32_t>(nodes_.size() - 1);
                nodes_[static_cast<std::size_t>(node)].next.emplace(b, created);
                node = created;
            } else {
                node = it->second;
            }
        }
        auto& terminal = nodes_[static_cast<std::size_t>(node)].entry;
        if (terminal < 0) { // the first of duplicate patterns wins, as in Aho-Corasick
            terminal = static_cast<std::int32_t>(entries_.size());
            entries_.push_back(e);
        }
        firstByte_[static_cast<unsigned char>(e.pattern[0])] = true;
    }
}

namespace {

// Rust regex's \w at the start / end of a string (Unicode word characters).
bool isWordChar(std::string_view ch)
{
    static const TokenizerRegex word(R"(\w)");
    return word.matchesWhole(ch);
}

std::string_view lastChar(std::string_view s)
{
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
        --start;
    return s.substr(start);
}

std::string_view firstChar(std::string_view s)
{
    return s.substr(0, std::min(s.size(), unicode::charLength(static_cast<unsigned char>(s[0]))));
}

} // namespace

std::vector<AddedTokenMatcher::Segment> AddedTokenMatcher::split(std::string_view text) const
{
    if (text.empty())
        return {{0, 0, -1}};
    std::vector<Segment> out;
    std::size_t startOffset = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!firstByte_[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        // Longest pattern starting at i.
        std::int32_t node = 0, best = -1;
        std::size_t bestEnd = 0;
        for (std::size_t k = i; k < text.size(); ++k) {
            const auto& next = nodes_[static_cast<std::size_t>(node)].next;
            auto it = next.find(static_cast<unsigned char>(text[k]));
            if (it == next.end())
                break;
            node = it->second;
            if (nodes_[static_cast<std::size_t>(node)].entry >= 0) {
                best = nodes_[static_cast<std::size_t>(node)].entry;
                bestEnd = k + 1;
            }
        }
        if (best < 0) {
            ++i;
            continue;
        }
        const Entry& e = entries_[static_cast<std::size_t>(best)];
        std::size_t start = i, stop = bestEnd;
        i = bestEnd; // the search resumes after this match even when it is discarded
        if (e.singleWord) {
            const bool wordBefore = start > 0 && isWordChar(lastChar(text.substr(0, start)));
            const bool wordAfter = stop < text.size() && isWordChar(firstChar(text.substr(stop)));
            if (wordBefore || wordAfter)
                continue;
        }
        if (e.lstrip) {
            std::size_t newStart = start;
            while (newStart > 0) {
                const auto ch = lastChar(text.substr(0, newStart));
                std::size_t p = 0;
                if (!unicode::isWhitespace(unicode::next(ch, p)))
                    break;
                newStart -= ch.size();
            }
            start = std::max(newStart, startOffset);
        }
        if (e.rstrip) {
            while (stop < text.size()) {
                std::size_t p = stop;
                if (!unicode::isWhitespace(unicode::next(text, p)))
                    break;
                stop = p;
            }
            // HF keeps searching from the end of the token itself, not of the stripped space.
        }
        if (startOffset < start)
            out.push_back({startOffset, start, -1});
        out.push_back({start, stop, e.id});
        startOffset = stop;
    }
    if (startOffset < text.size())
        out.push_back({startOffset, text.size(), -1});
    return out;
}

} // namespace qs::io
