// Tokenizer: added tokens -> normalizers -> pre-tokenizers -> BPE, in HF tokenizers' order.
#include "core/io/tokenizer.hpp"

#include "core/io/tokenizer_added.hpp"
#include "core/io/tokenizer_bpe.hpp"
#include "core/io/tokenizer_decode.hpp"
#include "core/io/tokenizer_pretokenize.hpp"
#include "core/io/tokenizer_spec_check.hpp"
#include "core/io/tokenizer_unicode.hpp"
#include "core/util/error.hpp"

#include <unordered_map>
#include <unordered_set>

namespace qs::io {

struct Tokenizer::Impl {
    TokenizerSpec spec;
    TokenizerPipeline pipeline; // the spec's, or the default one for its kind
    std::unique_ptr<TokenizerStages> stages;
    std::unique_ptr<BpeModel> bpe;
    AddedTokenMatcher rawTokens;        // added tokens matched in the input as given
    AddedTokenMatcher normalizedTokens; // ... and those matched after normalization
    std::unordered_set<std::string> specialContents;
    std::unordered_map<std::string, std::int32_t> tokenIds;
};

Tokenizer::Tokenizer(TokenizerSpec spec) : impl_(std::make_unique<Impl>())
{
    if (auto problem = findSpecProblem(spec))
        throw Error("tokenizer: " + *problem);
    Impl& d = *impl_;
    d.pipeline = spec.pipeline ? *spec.pipeline : defaultPipeline(spec);
    d.spec = std::move(spec);
    d.stages = std::make_unique<TokenizerStages>(d.pipeline);

    std::unordered_map<std::string, std::int32_t> vocab;
    vocab.reserve(d.spec.vocab.size());
    for (std::size_t id = 0; id < d.spec.vocab.size(); ++id)
        if (!d.spec.vocab[id].empty())
            vocab.emplace(d.spec.vocab[id], static_cast<std::int32_t>(id)); // first id of a duplicate wins
    std::vector<std::array<std::int32_t, 3>> merges;
    merges.reserve(d.spec.merges.size());
    for (const auto& [a, b] : d.spec.merges)
        merges.push_back({vocab.at(a), vocab.at(b), vocab.at(a + b)}); // checked by findSpecProblem
    BpeOptions options;
    options.byteFallback = d.spec.byteFallback;
    options.fuseUnk = d.pipeline.fuseUnk;
    options.ignoreMerges = d.pipeline.ignoreMerges;
    options.unkId = d.spec.unkId.value_or(-1);
    d.tokenIds = vocab;
    d.bpe = std::make_unique<BpeModel>(std::move(vocab), merges, options);

    // HF matches special tokens first, then the other added tokens, each in file order.
    std::vector<AddedTokenMatcher::Entry> raw, normalized;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& t : d.spec.addedTokens) {
            if (t.special != (pass == 0))
                continue;
            AddedTokenMatcher::Entry e{t.content, t.id, t.lstrip, t.rstrip, t.singleWord};
            if (t.normalized) {
                e.pattern = d.stages->normalize(t.content);
                normalized.push_back(std::move(e));
            } else {
                raw.push_back(std::move(e));
            }
        }
    }
    d.rawTokens = AddedTokenMatcher(raw);
    d.normalizedTokens = AddedTokenMatcher(normalized);
    for (const auto& t : d.spec.addedTokens) {
        if (t.special)
            d.specialContents.insert(t.content);
        d.tokenIds.insert_or_assign(t.content, t.id);
    }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<std::int32_t> Tokenizer::encode(std::string_view input, bool addSpecial) const
{
    const Impl& d = *impl_;
    const std::string text = unicode::toValidUtf8(input);
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() / 3 + 2);
    if (addSpecial && d.spec.addBos)
        ids.push_back(*d.spec.bosId);
    std::vector<std::string> words;
    for (const auto& seg : d.rawTokens.split(text)) {
        if (seg.id >= 0) {
            ids.push_back(seg.id);
            continue;
        }
        const std::string normalized = d.stages->normalize(std::string_view(text).substr(seg.start, seg.end - seg.start));
        for (const auto& part : d.normalizedTokens.split(normalized)) {
            if (part.id >= 0) {
                ids.push_back(part.id);
                continue;
            }
            words.clear();
            d.stages->preTokenize(normalized.substr(part.start, part.end - part.start),
                                  seg.start == 0 && part.start == 0, words);
            for (const auto& w : words)
                d.bpe->tokenize(w, ids);
        }
    }
    if (addSpecial && d.spec.addEos)
        ids.push_back(*d.spec.eosId);
    return ids;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids, bool skipSpecial) const
{
    const Impl& d = *impl_;
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const std::int32_t id : ids) {
        if (id < 0 || static_cast<std::size_t>(id) >= d.spec.vocab.size())
            continue;
        const std::string& t = d.spec.vocab[static_cast<std::size_t>(id)];
        if (t.empty() || (skipSpecial && d.specialContents.count(t)))
            continue;
        tokens.push_back(t);
    }
    return runDecoders(d.pipeline, std::move(tokens));
}

std::size_t Tokenizer::vocabSize() const { return impl_->spec.vocab.size(); }

const TokenizerSpec& Tokenizer::spec() const { return impl_->spec; }

std::optional<std::int32_t> Tokenizer::tokenId(std::string_view token) const
{
    auto it = impl_->tokenIds.find(std::string(token));
    if (it == impl_->tokenIds.end())
        return std::nullopt;
    return it->second;
}

} // namespace qs::io
