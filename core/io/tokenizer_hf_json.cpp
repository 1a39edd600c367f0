// HF tokenizer.json (+ tokenizer_config.json) -> TokenizerSpec. Every malformed or unsupported
// input is a FormatError naming the file and the JSON path of what was expected.
#include "core/io/tokenizer.hpp"

#include "core/io/tokenizer_hf_pipeline.hpp"
#include "core/io/tokenizer_pretokenize.hpp"
#include "core/io/tokenizer_spec_check.hpp"
#include "core/io/tokenizer_unicode.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace qs::io {

namespace {

using json = nlohmann::json;
using P = TokenizerPipeline;

constexpr std::uintmax_t kMaxFileBytes = 1ull << 30; // far above any real tokenizer.json

std::string readSmallFile(const std::filesystem::path& path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw NotFoundError(path.string() + ": cannot read: " + ec.message());
    if (size > kMaxFileBytes)
        throw FormatError(path.string(), "file of " + std::to_string(size) + " bytes is too large for a tokenizer file");
    std::ifstream in(path, std::ios::binary);
    std::string data(static_cast<std::size_t>(size), '\0');
    if (!in.read(data.data(), static_cast<std::streamsize>(size)))
        throw FormatError(path.string(), "could not read the whole file");
    return data;
}

// The vocab string of a tokenizer_config.json token entry: "x", {"content": "x"} or null.
std::optional<std::string> configToken(const JsonReader& p, const json& cfg, const char* key)
{
    auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null())
        return std::nullopt;
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_object())
        return p.string(p.member(*it, "content", key), std::string(key) + ".content");
    p.fail(std::string(key) + ": expected a string, {\"content\": ...} or null, found " + it->type_name());
}

} // namespace

TokenizerSpec Tokenizer::parseHfJson(const std::string& text, const std::string& file)
{
    const JsonReader p(file);
    const json root = p.parse(text);
    p.object(root, "(top level)");
    const json& model = p.object(p.member(root, "model", "(top level)"), "model");

    const std::string type = model.contains("type") ? p.string(model["type"], "model.type")
                                                    : (model.contains("merges") ? "BPE" : "(none)");
    if (type != "BPE")
        p.fail("tokenizer model type " + type + " not supported yet");
    if (auto it = model.find("dropout"); it != model.end() && !it->is_null() && !(it->is_number() && it->get<double>() == 0.0))
        p.fail("model.dropout: BPE dropout (random merges) is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (auto it = model.find(key); it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
            p.fail(std::string("model.") + key + ": not supported yet");

    TokenizerSpec spec;
    const json& vocab = p.object(p.member(model, "vocab", "model"), "model.vocab");
    const json addedJson = root.contains("added_tokens") && !root["added_tokens"].is_null()
                               ? p.array(root["added_tokens"], "added_tokens")
                               : json::array();
    // Ids must fit in a table no larger than the number of tokens declared, so a hostile id
    // cannot make us allocate; holes (ids nobody uses) stay empty strings.
    const std::int64_t idLimit = static_cast<std::int64_t>(vocab.size() + addedJson.size());
    std::unordered_map<std::string, std::int32_t> ids;
    ids.reserve(vocab.size());
    std::vector<std::pair<std::int32_t, std::string>> entries;
    entries.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        const auto id = p.integer(it.value(), 0, idLimit - 1, "model.vocab[\"" + it.key() + "\"]");
        entries.emplace_back(static_cast<std::int32_t>(id), it.key());
        ids.emplace(it.key(), static_cast<std::int32_t>(id));
    }
    std::vector<TokenizerSpec::AddedToken> added;
    for (std::size_t k = 0; k < addedJson.size(); ++k) {
        const std::string path = "added_tokens[" + std::to_string(k) + "]";
        const json& t = p.object(addedJson[k], path);
        TokenizerSpec::AddedToken a;
        a.id = static_cast<std::int32_t>(p.integer(p.member(t, "id", path), 0, idLimit - 1, path + ".id"));
        a.content = p.string(p.member(t, "content", path), path + ".content");
        if (a.content.empty())
            p.fail(path + ".content: expected a non-empty string");
        a.special = p.boolean(t, "special", false, path);
        a.normalized = p.boolean(t, "normalized", !a.special, path);
        a.lstrip = p.boolean(t, "lstrip", false, path);
        a.rstrip = p.boolean(t, "rstrip", false, path);
        a.singleWord = p.boolean(t, "single_word", false, path);
        added.push_back(a);
    }
    std::int32_t maxId = -1;
    for (const auto& e : entries) maxId = std::max(maxId, e.first);
    for (const auto& a : added) maxId = std::max(maxId, a.id);
    spec.vocab.assign(static_cast<std::size_t>(maxId + 1), std::string());
    std::vector<bool> used(spec.vocab.size(), false);
    for (const auto& [id, token] : entries) {
        if (used[static_cast<std::size_t>(id)])
            p.fail("model.vocab: id " + std::to_string(id) + " is given to both \"" + spec.vocab[static_cast<std::size_t>(id)] +
                   "\" and \"" + token + "\"");
        used[static_cast<std::size_t>(id)] = true;
        spec.vocab[static_cast<std::size_t>(id)] = token;
    }
    for (std::size_t k = 0; k < added.size(); ++k) {
        auto& slot = spec.vocab[static_cast<std::size_t>(added[k].id)];
        if (used[static_cast<std::size_t>(added[k].id)] && slot != added[k].content)
            p.fail("added_tokens[" + std::to_string(k) + "]: id " + std::to_string(added[k].id) + " of \"" + added[k].content +
                   "\" already belongs to \"" + slot + "\"");
        used[static_cast<std::size_t>(added[k].id)] = true;
        slot = added[k].content;
    }
    // A content added twice keeps its first entry, as HF does.
    std::unordered_map<std::string, bool> seen;
    for (auto& a : added)
        if (seen.emplace(a.content, true).second)
            spec.addedTokens.push_back(a);

    const json& merges = p.array(p.member(model, "merges", "model"), "model.merges");
    spec.merges.reserve(merges.size());
    for (std::size_t k = 0; k < merges.size(); ++k) {
        const std::string path = "model.merges[" + std::to_string(k) + "]";
        const json& m = merges[k];
        std::pair<std::string, std::string> pair;
        if (m.is_string()) {
            const std::string line = m.get<std::string>();
            if (line.rfind("#version", 0) == 0)
                continue;
            const auto space = line.find(' ');
            if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
                p.fail(path + ": expected \"left right\" (two tokens separated by one space), found \"" + line + "\"");
            pair = {line.substr(0, space), line.substr(space + 1)};
        } else if (m.is_array() && m.size() == 2) {
            pair = {p.string(m[0], path + "[0]"), p.string(m[1], path + "[1]")};
        } else {
            p.fail(path + ": expected \"left right\" or [left, right], found " + m.type_name());
        }
        for (const auto* part : {&pair.first, &pair.second})
            if (!ids.count(*part))
                p.fail(path + ": token \"" + *part + "\" is not in model.vocab");
        if (!ids.count(pair.first + pair.second))
            p.fail(path + ": merged token \"" + pair.first + pair.second + "\" is not in model.vocab");
        spec.merges.push_back(std::move(pair));
    }

    if (auto it = model.find("unk_token"); it != model.end() && !it->is_null()) {
        const std::string unk = p.string(*it, "model.unk_token");
        auto id = ids.find(unk);
        if (id == ids.end())
            p.fail("model.unk_token: \"" + unk + "\" is not in model.vocab");
        spec.unkId = id->second;
    }
    spec.byteFallback = p.boolean(model, "byte_fallback", false, "model");

    ParsedPipeline parsed = parseHfPipeline(p, root);
    P pipeline = std::move(parsed.pipeline);
    pipeline.fuseUnk = p.boolean(model, "fuse_unk", false, "model");
    pipeline.ignoreMerges = p.boolean(model, "ignore_merges", false, "model");
    const std::vector<std::int32_t>& before = parsed.before;
    const std::vector<std::int32_t>& after = parsed.after;
    if (before.size() > 1 || after.size() > 1)
        p.fail("post_processor: a template adding more than one token before or after the text is not supported yet");
    if (!before.empty()) {
        spec.bosId = before[0];
        spec.addBos = true;
    }
    if (!after.empty()) {
        spec.eosId = after[0];
        spec.addEos = true;
    }

    // The kind and the GGUF-style summary fields, for exporters and display.
    bool byteLevel = false;
    for (const auto& s : pipeline.preTokenizers) {
        byteLevel = byteLevel || s.op == P::PreTokenizer::Op::ByteLevel;
        if (s.op == P::PreTokenizer::Op::Split && s.regex)
            spec.splitPatterns.push_back(s.pattern);
        if (s.op == P::PreTokenizer::Op::Metaspace)
            spec.addPrefixSpace = s.prependScheme != P::PrependScheme::Never;
    }
    for (const auto& d : pipeline.decoders)
        byteLevel = byteLevel || d.op == P::Decoder::Op::ByteLevel;
    spec.kind = byteLevel ? TokenizerSpec::Kind::ByteLevel : TokenizerSpec::Kind::SentencePiece;
    if (!byteLevel && !pipeline.normalizers.empty()) {
        spec.addPrefixSpace = false;
        for (const auto& n : pipeline.normalizers)
            spec.addPrefixSpace = spec.addPrefixSpace || n.op == P::Normalizer::Op::Prepend;
    }

    try {
        TokenizerStages compileCheck(pipeline);
    } catch (const Error& e) {
        p.fail(e.what());
    }
    spec.pipeline = std::move(pipeline);
    if (auto problem = findSpecProblem(spec))
        p.fail(*problem);
    return spec;
}

Tokenizer Tokenizer::fromHfFiles(const std::filesystem::path& tokenizerJson,
                                 const std::optional<std::filesystem::path>& tokenizerConfigJson)
{
    TokenizerSpec spec = parseHfJson(readSmallFile(tokenizerJson), tokenizerJson.string());
    if (tokenizerConfigJson) {
        const JsonReader p(tokenizerConfigJson->string());
        const json cfg = p.parse(readSmallFile(*tokenizerConfigJson));
        p.object(cfg, "(top level)");
        const auto idOf = [&](const std::string& token, const char* key) {
            for (const auto& a : spec.addedTokens)
                if (a.content == token)
                    return a.id;
            for (std::size_t id = 0; id < spec.vocab.size(); ++id)
                if (spec.vocab[id] == token)
                    return static_cast<std::int32_t>(id);
            p.fail(std::string(key) + ": \"" + token + "\" is not a token of " + tokenizerJson.string());
        };
        if (auto bos = configToken(p, cfg, "bos_token"))
            spec.bosId = idOf(*bos, "bos_token");
        if (auto eos = configToken(p, cfg, "eos_token"))
            spec.eosId = idOf(*eos, "eos_token");
        spec.addBos = p.boolean(cfg, "add_bos_token", spec.addBos, "(top level)");
        spec.addEos = p.boolean(cfg, "add_eos_token", spec.addEos, "(top level)");
        if (spec.addBos && !spec.bosId)
            p.fail("add_bos_token is true but there is no bos_token");
        if (spec.addEos && !spec.eosId)
            p.fail("add_eos_token is true but there is no eos_token");
    }
    try {
        return Tokenizer(std::move(spec));
    } catch (const FormatError&) {
        throw;
    } catch (const Error& e) {
        throw FormatError(tokenizerJson.string(), e.what());
    }
}

} // namespace qs::io
