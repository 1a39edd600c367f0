#include "core/io/tokenizer_decode.hpp"

#include "core/io/tokenizer_pretokenize.hpp"
#include "core/io/tokenizer_unicode.hpp"

#include <optional>

namespace qs::io {

namespace {

using Decoder = TokenizerPipeline::Decoder;

// "<0xNN>" -> NN. Mirrors Rust's u8::from_str_radix on the two middle characters, which
// also accepts a leading '+' ("<0x+A>").
std::optional<unsigned char> byteToken(const std::string& t)
{
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>')
        return std::nullopt;
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (t[3] == '+') {
        const int lo = hex(t[4]);
        return lo < 0 ? std::nullopt : std::optional<unsigned char>(static_cast<unsigned char>(lo));
    }
    const int hi = hex(t[3]), lo = hex(t[4]);
    if (hi < 0 || lo < 0)
        return std::nullopt;
    return static_cast<unsigned char>(hi * 16 + lo);
}

std::vector<std::string> byteLevel(const std::vector<std::string>& tokens)
{
    std::string bytes;
    for (const auto& t : tokens) {
        std::string mapped;
        bool all = true;
        for (std::size_t i = 0; i < t.size() && all;) {
            const int b = unicode::unicodeToByte(unicode::next(t, i));
            all = b >= 0;
            mapped.push_back(static_cast<char>(b));
        }
        bytes += all ? mapped : t; // a token outside the map (an added token) stays as it is
    }
    return {unicode::toValidUtf8(bytes)};
}

std::vector<std::string> byteFallback(std::vector<std::string> tokens)
{
    std::vector<std::string> out;
    std::string pending;
    const auto flush = [&] {
        if (pending.empty())
            return;
        if (unicode::isValidUtf8(pending)) {
            out.push_back(pending);
        } else {
            for (std::size_t k = 0; k < pending.size(); ++k)
                out.emplace_back("\xEF\xBF\xBD"); // one U+FFFD per byte token, as HF does
        }
        pending.clear();
    };
    for (auto& t : tokens) {
        if (auto b = byteToken(t)) {
            pending.push_back(static_cast<char>(*b));
            continue;
        }
        flush();
        out.push_back(std::move(t));
    }
    flush();
    return out;
}

std::string strip(const std::string& t, const std::string& content, std::size_t start, std::size_t stop)
{
    // Count characters equal to content at each end, up to start / stop of them.
    std::vector<std::size_t> offsets; // char boundaries
    for (std::size_t i = 0; i < t.size();) {
        offsets.push_back(i);
        unicode::next(t, i);
    }
    offsets.push_back(t.size());
    const std::size_t nchars = offsets.size() - 1;
    const auto charAt = [&](std::size_t k) { return t.substr(offsets[k], offsets[k + 1] - offsets[k]); };
    std::size_t first = 0;
    while (first < start && first < nchars && charAt(first) == content)
        ++first;
    std::size_t last = nchars, dropped = 0;
    while (dropped < stop && last > first && charAt(last - 1) == content) {
        --last;
        ++dropped;
    }
    return t.substr(offsets[first], offsets[last] - offsets[first]);
}

} // namespace

std::string runDecoders(const TokenizerPipeline& pipeline, std::vector<std::string> tokens)
{
    if (!pipeline.hasDecoder) {
        std::string joined;
        for (std::size_t k = 0; k < tokens.size(); ++k)
            joined += (k ? " " : "") + tokens[k];
        return joined;
    }
    for (const auto& d : pipeline.decoders) {
        switch (d.op) {
        case Decoder::Op::ByteLevel:
            tokens = byteLevel(tokens);
            break;
        case Decoder::Op::Replace:
            for (auto& t : tokens)
                t = replaceAll(t, d.pattern, d.content);
            break;
        case Decoder::Op::ByteFallback:
            tokens = byteFallback(std::move(tokens));
            break;
        case Decoder::Op::Fuse: {
            std::string all;
            for (const auto& t : tokens)
                all += t;
            tokens = {std::move(all)};
            break;
        }
        case Decoder::Op::Strip:
            for (auto& t : tokens)
                t = strip(t, d.content, d.start, d.stop);
            break;
        case Decoder::Op::Metaspace:
            // HF drops every replacement char of the first token (not only a leading one)
            // unless prepend_scheme is "never"; elsewhere it becomes a space.
            for (std::size_t k = 0; k < tokens.size(); ++k) {
                const bool drop = k == 0 && d.prependScheme != TokenizerPipeline::PrependScheme::Never;
                tokens[k] = replaceAll(tokens[k], d.replacement, drop ? "" : " ");
            }
            break;
        }
    }
    std::string out;
    for (const auto& t : tokens)
        out += t;
    return out;
}

} // namespace qs::io
