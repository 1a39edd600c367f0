#include "core/io/tokenizer_pretokenize.hpp"

#include "core/io/tokenizer_unicode.hpp"

#include <algorithm>

namespace qs::io {

using Pipeline = TokenizerPipeline;

std::string replaceAll(std::string_view text, std::string_view from, std::string_view to)
{
    if (from.empty())
        return std::string(text);
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = text.find(from, pos);
        if (hit == std::string_view::npos)
            break;
        out.append(text.substr(pos, hit - pos)).append(to);
        pos = hit + from.size();
    }
    out.append(text.substr(pos));
    return out;
}

TokenizerStages::TokenizerStages(const TokenizerPipeline& pipeline) : pipeline_(pipeline)
{
    for (const auto& n : pipeline.normalizers)
        normalizerRegex_.push_back(n.op == Pipeline::Normalizer::Op::Replace && n.regex
                                       ? std::make_unique<TokenizerRegex>(n.pattern)
                                       : nullptr);
    for (const auto& p : pipeline.preTokenizers) {
        preTokenizerRegex_.push_back(p.op == Pipeline::PreTokenizer::Op::Split && p.regex
                                         ? std::make_unique<TokenizerRegex>(p.pattern)
                                         : nullptr);
        if (p.op == Pipeline::PreTokenizer::Op::ByteLevel && p.useRegex && !gpt2_)
            gpt2_ = std::make_unique<TokenizerRegex>(kGpt2SplitPattern);
        if (p.op == Pipeline::PreTokenizer::Op::Digits && !digit_)
            digit_ = std::make_unique<TokenizerRegex>(R"(\p{N})");
    }
}

TokenizerStages::~TokenizerStages() = default;

static std::string stripWhitespace(std::string_view s, bool left, bool right)
{
    std::size_t begin = 0, end = s.size();
    if (left) {
        while (begin < end) {
            std::size_t i = begin;
            if (!unicode::isWhitespace(unicode::next(s, i)))
                break;
            begin = i;
        }
    }
    if (right) {
        while (end > begin) {
            std::size_t start = end - 1;
            while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
                --start;
            std::size_t i = start;
            if (!unicode::isWhitespace(unicode::next(s, i)))
                break;
            end = start;
        }
    }
    return std::string(s.substr(begin, end - begin));
}

std::string TokenizerStages::normalize(std::string_view text) const
{
    std::string s(text);
    for (std::size_t k = 0; k < pipeline_.normalizers.size(); ++k) {
        const auto& n = pipeline_.normalizers[k];
        switch (n.op) {
        case Pipeline::Normalizer::Op::Prepend:
            if (!s.empty())
                s = n.pattern + s;
            break;
        case Pipeline::Normalizer::Op::Replace:
            if (const auto* re = normalizerRegex_[k].get()) {
                std::string out;
                std::size_t pos = 0;
                re->forEachMatch(s, [&](std::size_t b, std::size_t e) {
                    out.append(s, pos, b - pos).append(n.content);
                    pos = e;
                });
                out.append(s, pos, std::string::npos);
                s = std::move(out);
            } else {
                s = replaceAll(s, n.pattern, n.content);
            }
            break;
        case Pipeline::Normalizer::Op::Strip:
            s = stripWhitespace(s, n.stripLeft, n.stripRight);
            break;
        case Pipeline::Normalizer::Op::Nfc:
            // Accepted as the identity: exact for text already in NFC (nearly all text, and
            // every text below U+0300). Real composition needs ICU, which core does not link.
            break;
        }
    }
    return s;
}

std::vector<TokenizerStages::Piece> TokenizerStages::split(const Piece& piece, const TokenizerRegex* regex,
                                                           std::string_view literal, bool invert,
                                                           Pipeline::SplitBehavior behavior) const
{
    const std::string& s = piece.text;
    struct Seg {
        std::size_t start, end;
        bool delim;
    };
    std::vector<Seg> segs;
    std::size_t prev = 0;
    const auto onMatch = [&](std::size_t b, std::size_t e) {
        if (prev != b)
            segs.push_back({prev, b, false});
        segs.push_back({b, e, true});
        prev = e;
    };
    if (regex) {
        regex->forEachMatch(s, onMatch);
    } else if (!literal.empty()) {
        for (std::size_t hit = s.find(literal); hit != std::string::npos; hit = s.find(literal, prev))
            onMatch(hit, hit + literal.size());
    }
    if (prev != s.size())
        segs.push_back({prev, s.size(), false});
    if (invert)
        for (auto& g : segs)
            g.delim = !g.delim;

    // Fold the delimiters into their neighbours the way HF's SplitDelimiterBehavior does.
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    bool previousDelim = false;
    switch (behavior) {
    case Pipeline::SplitBehavior::Removed:
        for (const auto& g : segs)
            if (!g.delim)
                ranges.emplace_back(g.start, g.end);
        break;
    case Pipeline::SplitBehavior::Isolated:
        for (const auto& g : segs)
            ranges.emplace_back(g.start, g.end);
        break;
    case Pipeline::SplitBehavior::MergedWithPrevious:
        for (const auto& g : segs) {
            if (g.delim && !previousDelim && !ranges.empty())
                ranges.back().second = g.end;
            else
                ranges.emplace_back(g.start, g.end);
            previousDelim = g.delim;
        }
        break;
    case Pipeline::SplitBehavior::MergedWithNext:
        for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
            if (it->delim && !previousDelim && !ranges.empty())
                ranges.back().first = it->start;
            else
                ranges.emplace_back(it->start, it->end);
            previousDelim = it->delim;
        }
        std::reverse(ranges.begin(), ranges.end());
        break;
    case Pipeline::SplitBehavior::Contiguous:
        for (std::size_t k = 0; k < segs.size(); ++k) {
            if (k > 0 && segs[k].delim == previousDelim && !ranges.empty())
                ranges.back().second = segs[k].end;
            else
                ranges.emplace_back(segs[k].start, segs[k].end);
            previousDelim = segs[k].delim;
        }
        break;
    }
    std::vector<Piece> out;
    out.reserve(ranges.size());
    for (const auto& [b, e] : ranges)
        if (e > b)
            out.push_back({s.substr(b, e - b), piece.atOrigin && b == 0});
    return out;
}

void TokenizerStages::preTokenize(std::string text, bool atOrigin, std::vector<std::string>& words) const
{
    if (text.empty())
        return;
    std::vector<Piece> pieces{{std::move(text), atOrigin}};
    for (std::size_t k = 0; k < pipeline_.preTokenizers.size(); ++k) {
        const auto& p = pipeline_.preTokenizers[k];
        std::vector<Piece> next;
        for (auto& piece : pieces) {
            std::vector<Piece> parts;
            switch (p.op) {
            case Pipeline::PreTokenizer::Op::Split:
                parts = split(piece, preTokenizerRegex_[k].get(), p.pattern, p.invert, p.behavior);
                break;
            case Pipeline::PreTokenizer::Op::Digits:
                parts = split(piece, digit_.get(), {}, false,
                              p.individualDigits ? Pipeline::SplitBehavior::Isolated
                                                 : Pipeline::SplitBehavior::Contiguous);
                break;
            case Pipeline::PreTokenizer::Op::ByteLevel: {
                if (p.addPrefixSpace && piece.text.front() != ' ')
                    piece.text.insert(piece.text.begin(), ' ');
                if (p.useRegex)
                    parts = split(piece, gpt2_.get(), {}, false, Pipeline::SplitBehavior::Isolated);
                else
                    parts.push_back(std::move(piece));
                const auto& map = unicode::byteToUnicode();
                for (auto& part : parts) {
                    std::string mapped;
                    mapped.reserve(part.text.size() * 2);
                    for (char c : part.text)
                        mapped += map[static_cast<unsigned char>(c)];
                    part.text = std::move(mapped);
                }
                break;
            }
            case Pipeline::PreTokenizer::Op::Metaspace: {
                piece.text = replaceAll(piece.text, " ", p.replacement);
                const bool startsWithReplacement = piece.text.compare(0, p.replacement.size(), p.replacement) == 0;
                const bool prepend = !startsWithReplacement &&
                                     (p.prependScheme == Pipeline::PrependScheme::Always ||
                                      (p.prependScheme == Pipeline::PrependScheme::First && piece.atOrigin));
                if (prepend)
                    piece.text.insert(0, p.replacement);
                if (p.split)
                    parts = split(piece, nullptr, p.replacement, false, Pipeline::SplitBehavior::MergedWithNext);
                else
                    parts.push_back(std::move(piece));
                break;
            }
            }
            for (auto& part : parts)
                if (!part.text.empty())
                    next.push_back(std::move(part));
        }
        pieces = std::move(next);
    }
    for (auto& piece : pieces)
        words.push_back(std::move(piece.text));
}

} // namespace qs::io
