// tokenizer.ggml.* metadata to a TokenizerSpec. "gpt2" files carry merges; sentencepiece
// ("llama") files carry scores instead, from which merges are derived the way HF's converter
// does it: every split of a vocab piece into two vocab pieces, ranked by the piece's score.
#include "core/io/gguf_specs.hpp"
#include "core/util/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

namespace qs::io::gguf {

namespace {

// llama.cpp's token types.
enum TokenType : std::int64_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

// Sentencepiece pieces are at most 16 characters; longer ones are never merge products and
// skipping them keeps the derivation linear in the vocab whatever a file declares.
constexpr std::size_t kMaxMergedPieceBytes = 64;

std::vector<std::string> stringArray(const MetadataView& m, const std::string& key, bool requiredKey)
{
    const auto* a = m.array(key);
    if (!a) {
        if (requiredKey)
            m.fail(key, "an array of strings");
        return {};
    }
    std::vector<std::string> out;
    out.reserve(a->size());
    for (const auto& v : *a) {
        const auto* s = std::get_if<std::string>(&v.value);
        if (!s)
            m.fail(key, "an array of strings");
        out.push_back(*s);
    }
    return out;
}

template <typename T, typename Convert>
std::vector<T> numberArray(const MetadataView& m, const std::string& key, std::size_t expectedSize, Convert convert)
{
    const auto* a = m.array(key);
    if (!a)
        return {};
    if (a->size() != expectedSize)
        m.fail(key, "an array of " + std::to_string(expectedSize) + " items (one per token), found " +
                        std::to_string(a->size()) + " items in");
    std::vector<T> out;
    out.reserve(a->size());
    for (const auto& v : *a) {
        auto x = convert(v);
        if (!x)
            m.fail(key, "an array of numbers");
        out.push_back(static_cast<T>(*x));
    }
    return out;
}

std::optional<std::int32_t> tokenId(const MetadataView& m, const std::string& key, std::size_t vocabSize)
{
    auto id = m.integer(key);
    if (!id)
        return std::nullopt;
    if (*id < 0 || static_cast<std::uint64_t>(*id) >= vocabSize)
        m.fail(key, "a token id below the vocab size " + std::to_string(vocabSize) + ", found " + std::to_string(*id) +
                        " in");
    return static_cast<std::int32_t>(*id);
}

bool isContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

std::vector<std::pair<std::string, std::string>> mergesFromScores(const std::vector<std::string>& vocab,
                                                                  const std::vector<float>& scores,
                                                                  const std::vector<std::int64_t>& types)
{
    auto mergeable = [&](std::size_t id) { return types.empty() || types[id] == Normal; };
    std::unordered_map<std::string_view, std::size_t> ids;
    for (std::size_t i = 0; i < vocab.size(); ++i)
        if (mergeable(i))
            ids.emplace(vocab[i], i);

    struct Candidate {
        float score;
        std::size_t merged, left, right;
    };
    std::vector<Candidate> candidates;
    for (std::size_t i = 0; i < vocab.size(); ++i) {
        const std::string_view piece = vocab[i];
        if (!mergeable(i) || piece.size() < 2 || piece.size() > kMaxMergedPieceBytes)
            continue;
        for (std::size_t k = 1; k < piece.size(); ++k) {
            if (isContinuationByte(piece[k]))
                continue; // split only between characters
            auto l = ids.find(piece.substr(0, k));
            auto r = ids.find(piece.substr(k));
            if (l != ids.end() && r != ids.end())
                candidates.push_back({scores.empty() ? -static_cast<float>(i) : scores[i], i, l->second, r->second});
        }
    }
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (a.score != b.score)
            return a.score > b.score;
        if (a.merged != b.merged)
            return a.merged < b.merged;
        return a.left < b.left;
    });
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(candidates.size());
    for (const auto& c : candidates)
        merges.emplace_back(vocab[c.left], vocab[c.right]);
    return merges;
}

} // namespace

TokenizerSpec tokenizerSpecFrom(const Values& values, const std::string& file)
{
    const MetadataView m(values, file);
    TokenizerSpec spec;
    const auto model = m.string("tokenizer.ggml.model");
    if (!model)
        m.fail("tokenizer.ggml.model", "a string");
    if (*model == "gpt2")
        spec.kind = TokenizerSpec::Kind::ByteLevel;
    else if (*model == "llama")
        spec.kind = TokenizerSpec::Kind::SentencePiece;
    else
        throw FormatError(file, "tokenizer.ggml.model \"" + *model + "\": not supported yet (expected gpt2 or llama)");
    const bool sp = spec.kind == TokenizerSpec::Kind::SentencePiece;

    spec.vocab = stringArray(m, "tokenizer.ggml.tokens", true);
    const std::size_t n = spec.vocab.size();
    const auto types = numberArray<std::int64_t>(m, "tokenizer.ggml.token_type", n, asInteger);
    const auto scores = numberArray<float>(m, "tokenizer.ggml.scores", n, asNumber);

    for (const auto& merge : stringArray(m, "tokenizer.ggml.merges", false)) {
        // A merge is "left right"; search from 1 so a left part that is itself a space works.
        const auto space = merge.find(' ', 1);
        if (space == std::string::npos)
            throw FormatError(file, "tokenizer.ggml.merges: expected \"left right\", found \"" + merge.substr(0, 64) + "\"");
        spec.merges.emplace_back(merge.substr(0, space), merge.substr(space + 1));
    }
    if (sp && spec.merges.empty())
        spec.merges = mergesFromScores(spec.vocab, scores, types);

    for (std::size_t i = 0; i < types.size(); ++i)
        if (types[i] == Control || types[i] == UserDefined)
            spec.addedTokens.push_back({static_cast<std::int32_t>(i), spec.vocab[i], types[i] == Control});

    if (!sp) {
        const std::string pre = m.string("tokenizer.ggml.pre").value_or("default");
        bool known = true;
        spec.splitPatterns = splitPatternsForPre(pre, &known);
        if (!known)
            spdlog::warn("{}: tokenizer.ggml.pre \"{}\" is not known; using GPT-2's split regex", file, pre);
    }
    spec.addPrefixSpace = m.boolean("tokenizer.ggml.add_space_prefix").value_or(sp);
    spec.byteFallback = sp;
    spec.unkId = tokenId(m, "tokenizer.ggml.unknown_token_id", n);
    spec.bosId = tokenId(m, "tokenizer.ggml.bos_token_id", n);
    spec.eosId = tokenId(m, "tokenizer.ggml.eos_token_id", n);
    // llama.cpp's defaults: sentencepiece models prepend BOS unless told otherwise.
    spec.addBos = m.boolean("tokenizer.ggml.add_bos_token").value_or(sp);
    spec.addEos = m.boolean("tokenizer.ggml.add_eos_token").value_or(false);
    return spec;
}

} // namespace qs::io::gguf
