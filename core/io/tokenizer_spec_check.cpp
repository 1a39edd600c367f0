#include "core/io/tokenizer_spec_check.hpp"

#include "core/io/tokenizer_unicode.hpp"

#include <unordered_map>

namespace qs::io {

namespace {
constexpr std::size_t kMaxVocab = std::size_t{1} << 24;
const std::string kMetaspace = "\xE2\x96\x81";
} // namespace

std::optional<std::string> findSpecProblem(const TokenizerSpec& spec)
{
    const std::size_t n = spec.vocab.size();
    if (n == 0)
        return "the vocabulary is empty";
    if (n > kMaxVocab)
        return "the vocabulary has " + std::to_string(n) + " tokens, more than the supported " +
               std::to_string(kMaxVocab);
    std::unordered_map<std::string_view, std::int32_t> ids;
    ids.reserve(n);
    for (std::size_t id = 0; id < n; ++id) {
        if (!unicode::isValidUtf8(spec.vocab[id]))
            return "token " + std::to_string(id) + " is not valid UTF-8";
        ids.emplace(spec.vocab[id], static_cast<std::int32_t>(id));
    }
    for (std::size_t rank = 0; rank < spec.merges.size(); ++rank) {
        const std::string& a = spec.merges[rank].first; // not a structured binding: clang 14 cannot capture those
        const std::string& b = spec.merges[rank].second;
        const auto describe = [&] { return "merge " + std::to_string(rank) + " (\"" + a + "\" \"" + b + "\")"; };
        if (!ids.count(a) || !ids.count(b))
            return describe() + " refers to a token that is not in the vocabulary";
        if (!ids.count(a + b))
            return describe() + " makes \"" + a + b + "\", which is not in the vocabulary";
    }
    const auto inRange = [&](std::int32_t id) { return id >= 0 && static_cast<std::size_t>(id) < n; };
    for (const auto& t : spec.addedTokens) {
        if (!inRange(t.id))
            return "added token \"" + t.content + "\" has id " + std::to_string(t.id) + ", outside [0, " +
                   std::to_string(n) + ")";
        if (t.content.empty())
            return "added token " + std::to_string(t.id) + " is empty";
        if (spec.vocab[static_cast<std::size_t>(t.id)] != t.content)
            return "added token \"" + t.content + "\" has id " + std::to_string(t.id) + ", which the vocabulary gives to \"" +
                   spec.vocab[static_cast<std::size_t>(t.id)] + "\"";
    }
    const std::pair<const char*, const std::optional<std::int32_t>*> named[] = {
        {"bos", &spec.bosId}, {"eos", &spec.eosId}, {"unk", &spec.unkId}};
    for (const auto& [name, id] : named)
        if (id->has_value() && !inRange(**id))
            return std::string(name) + " id " + std::to_string(**id) + " is outside the vocabulary";
    if (spec.addBos && !spec.bosId)
        return "adding BOS is asked for but there is no BOS token";
    if (spec.addEos && !spec.eosId)
        return "adding EOS is asked for but there is no EOS token";
    return std::nullopt;
}

TokenizerPipeline defaultPipeline(const TokenizerSpec& spec)
{
    using P = TokenizerPipeline;
    P p;
    p.hasDecoder = true;
    if (spec.kind == TokenizerSpec::Kind::ByteLevel) {
        for (const auto& pattern : spec.splitPatterns) {
            P::PreTokenizer split;
            split.op = P::PreTokenizer::Op::Split;
            split.pattern = pattern;
            split.behavior = P::SplitBehavior::Isolated;
            p.preTokenizers.push_back(split);
        }
        P::PreTokenizer bytes;
        bytes.op = P::PreTokenizer::Op::ByteLevel;
        bytes.useRegex = spec.splitPatterns.empty();
        p.preTokenizers.push_back(bytes);
        p.decoders.push_back({});
        return p;
    }
    if (spec.addPrefixSpace) {
        P::Normalizer prepend;
        prepend.op = P::Normalizer::Op::Prepend;
        prepend.pattern = kMetaspace;
        p.normalizers.push_back(prepend);
    }
    P::Normalizer replace;
    replace.op = P::Normalizer::Op::Replace;
    replace.pattern = " ";
    replace.content = kMetaspace;
    p.normalizers.push_back(replace);
    P::Decoder d;
    d.op = P::Decoder::Op::Replace;
    d.pattern = kMetaspace;
    d.content = " ";
    p.decoders.push_back(d);
    d = {};
    d.op = P::Decoder::Op::ByteFallback;
    p.decoders.push_back(d);
    d.op = P::Decoder::Op::Fuse;
    p.decoders.push_back(d);
    d.op = P::Decoder::Op::Strip;
    d.content = " ";
    d.start = spec.addPrefixSpace ? 1 : 0;
    p.decoders.push_back(d);
    p.fuseUnk = true;
    return p;
}

} // namespace qs::io
