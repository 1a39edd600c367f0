#pragma once
// Helpers for the tokenizer suites: a tiny BPE trainer (most frequent pair first) that makes
// small but real vocabularies, and builders for byte-level and sentencepiece-style specs.
#include "core/io/tokenizer.hpp"
#include "core/io/tokenizer_unicode.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace qs::test {

// Words as symbol sequences with counts; returns merges in rank order.
inline std::vector<std::pair<std::string, std::string>> trainMerges(std::map<std::vector<std::string>, int> words,
                                                                    int numMerges)
{
    std::vector<std::pair<std::string, std::string>> merges;
    for (int m = 0; m < numMerges; ++m) {
        std::map<std::pair<std::string, std::string>, long> counts;
        for (const auto& [w, c] : words)
            for (std::size_t i = 0; i + 1 < w.size(); ++i)
                counts[{w[i], w[i + 1]}] += c;
        if (counts.empty())
            break;
        auto best = std::max_element(counts.begin(), counts.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
        const auto pair = best->first;
        merges.push_back(pair);
        std::map<std::vector<std::string>, int> next;
        for (const auto& [w, c] : words) {
            std::vector<std::string> merged;
            for (std::size_t i = 0; i < w.size(); ++i) {
                if (i + 1 < w.size() && w[i] == pair.first && w[i + 1] == pair.second) {
                    merged.push_back(w[i] + w[i + 1]);
                    ++i;
                } else {
                    merged.push_back(w[i]);
                }
            }
            next[merged] += c;
        }
        words = std::move(next);
    }
    return merges;
}

// Space-led words of text ("the", " cat", "\n"), a rough stand-in for a pre-tokenizer.
inline std::vector<std::string> roughWords(const std::string& text)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if ((c == ' ' || c == '\n') && !cur.empty()) {
            out.push_back(cur);
            cur.clear();
        }
        cur.push_back(c);
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

inline std::vector<std::string> utf8Chars(const std::string& s)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = io::unicode::charLength(static_cast<unsigned char>(s[i]));
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

// Byte-level (GPT-2 pre-tokenizer by default) with all 256 byte symbols and trained merges.
inline io::TokenizerSpec trainByteLevel(const std::string& sample, int numMerges)
{
    io::TokenizerSpec spec;
    spec.kind = io::TokenizerSpec::Kind::ByteLevel;
    const auto& map = io::unicode::byteToUnicode();
    for (int b = 0; b < 256; ++b)
        spec.vocab.push_back(map[static_cast<std::size_t>(b)]);
    std::map<std::vector<std::string>, int> words;
    for (const auto& w : roughWords(sample)) {
        std::vector<std::string> symbols;
        for (char c : w)
            symbols.push_back(map[static_cast<unsigned char>(c)]);
        ++words[symbols];
    }
    spec.merges = trainMerges(words, numMerges);
    std::set<std::string> known(spec.vocab.begin(), spec.vocab.end());
    for (const auto& [a, b] : spec.merges)
        if (known.insert(a + b).second)
            spec.vocab.push_back(a + b);
    return spec;
}

// Sentencepiece-style: <unk> <s> </s>, 256 byte tokens, the characters of the sample, merges.
inline io::TokenizerSpec trainSentencePiece(const std::string& sample, int numMerges)
{
    const std::string meta = "\xE2\x96\x81";
    io::TokenizerSpec spec;
    spec.kind = io::TokenizerSpec::Kind::SentencePiece;
    spec.vocab = {"<unk>", "<s>", "</s>"};
    char name[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        spec.vocab.push_back(name);
    }
    std::set<std::string> known(spec.vocab.begin(), spec.vocab.end());
    std::map<std::vector<std::string>, int> words;
    std::string spaced = meta;
    for (char c : sample)
        spaced += c == ' ' ? meta : std::string(1, c);
    std::vector<std::string> chars = utf8Chars(spaced);
    std::vector<std::string> cur;
    for (const auto& ch : chars) {
        if (known.insert(ch).second)
            spec.vocab.push_back(ch);
        if (ch == meta && !cur.empty()) {
            ++words[cur];
            cur.clear();
        }
        cur.push_back(ch);
    }
    if (!cur.empty())
        ++words[cur];
    spec.merges = trainMerges(words, numMerges);
    for (const auto& [a, b] : spec.merges)
        if (known.insert(a + b).second)
            spec.vocab.push_back(a + b);
    spec.unkId = 0;
    spec.bosId = 1;
    spec.eosId = 2;
    spec.addedTokens = {{0, "<unk>", true}, {1, "<s>", true}, {2, "</s>", true}};
    return spec;
}

// Random text mixing ASCII words, whitespace runs, digits, accents, CJK and emoji.
inline std::string randomText(std::mt19937& rng, std::size_t pieces)
{
    static const std::vector<std::string> parts = {
        "the", " king", " of", "  ", "\n", "\n\n", "\t", "1", "42", "12345", "'s", "'LL", "caf\xC3\xA9", " na\xC3\xAFve",
        "\xE4\xB8\xAD\xE6\x96\x87", "\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", " \xD0\xBF\xD1\x80\xD0\xB8",
        "!", "...", " ?", "\xC2\xA0", "\xE3\x80\x80", "\r\n", "<", "s>"};
    std::uniform_int_distribution<std::size_t> pick(0, parts.size() - 1);
    std::string out;
    for (std::size_t k = 0; k < pieces; ++k)
        out += parts[pick(rng)];
    return out;
}

} // namespace qs::test
