// HF tokenizer.json (+ tokenizer_config.json) -> TokenizerSpec. Every malformed or unsupported
// input is a FormatError naming the file and the JSON path of what was expected.
#include "core/io/tokenizer.hpp"

#include "core/io/tokenizer_pretokenize.hpp"
#include "core/io/tokenizer_spec_check.hpp"
#include "core/io/tokenizer_unicode.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

namespace qs::io {

namespace {

using json = nlohmann::json;
using P = TokenizerPipeline;

constexpr int kMaxNesting = 16;                          // Sequence inside Sequence ...
constexpr std::uintmax_t kMaxFileBytes = 1ull << 30;     // far above any real tokenizer.json

class Parser {
public:
    explicit Parser(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& what) const { throw FormatError(file_, what); }

    const json& member(const json& obj, const char* key, const std::string& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end())
            fail(path + "." + key + ": expected a value, found none");
        return *it;
    }
    const json& object(const json& v, const std::string& path) const
    {
        if (!v.is_object())
            fail(path + ": expected an object, found " + v.type_name());
        return v;
    }
    const json& array(const json& v, const std::string& path) const
    {
        if (!v.is_array())
            fail(path + ": expected an array, found " + v.type_name());
        return v;
    }
    std::string string(const json& v, const std::string& path) const
    {
        if (!v.is_string())
            fail(path + ": expected a string, found " + v.type_name());
        return v.get<std::string>();
    }
    bool boolean(const json& obj, const char* key, bool fallback, const std::string& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return fallback;
        if (!it->is_boolean())
            fail(path + "." + key + ": expected true or false, found " + it->type_name());
        return it->get<bool>();
    }
    std::int64_t integer(const json& v, std::int64_t lo, std::int64_t hi, const std::string& path) const
    {
        if (!v.is_number_integer())
            fail(path + ": expected an integer, found " + v.type_name());
        const bool isUnsigned = v.is_number_unsigned();
        if (isUnsigned ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi) : v.get<std::int64_t>() > hi)
            fail(path + ": expected an integer at most " + std::to_string(hi));
        const std::int64_t x = isUnsigned ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
        if (x < lo)
            fail(path + ": expected an integer at least " + std::to_string(lo) + ", found " + std::to_string(x));
        return x;
    }
    std::string type(const json& obj, const std::string& path) const
    {
        return string(member(object(obj, path), "type", path), path + ".type");
    }
    // {"String": s} or {"Regex": r}
    std::pair<std::string, bool> pattern(const json& obj, const std::string& path) const
    {
        const json& p = object(member(obj, "pattern", path), path + ".pattern");
        if (p.contains("String"))
            return {string(p["String"], path + ".pattern.String"), false};
        if (p.contains("Regex"))
            return {string(p["Regex"], path + ".pattern.Regex"), true};
        fail(path + ".pattern: expected {\"String\": ...} or {\"Regex\": ...}");
    }
    P::PrependScheme prependScheme(const json& obj, const std::string& path) const
    {
        if (auto it = obj.find("prepend_scheme"); it != obj.end() && !it->is_null()) {
            const std::string s = string(*it, path + ".prepend_scheme");
            if (s == "always") return P::PrependScheme::Always;
            if (s == "first") return P::PrependScheme::First;
            if (s == "never") return P::PrependScheme::Never;
            fail(path + ".prepend_scheme: expected \"always\", \"first\" or \"never\", found \"" + s + "\"");
        }
        // Older files: add_prefix_space (default true).
        return boolean(obj, "add_prefix_space", true, path) ? P::PrependScheme::Always : P::PrependScheme::Never;
    }
    std::string replacementChar(const json& obj, const std::string& path) const
    {
        const char* key = obj.contains("replacement") ? "replacement" : "str_rep";
        const std::string r = obj.contains(key) ? string(obj[key], path + "." + key) : "\xE2\x96\x81";
        std::size_t i = 0;
        if (r.empty() || (unicode::next(r, i), i != r.size()))
            fail(path + "." + key + ": expected exactly one character");
        return r;
    }

    void normalizer(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": normalizers nested too deeply");
        const std::string t = type(n, path);
        P::Normalizer step;
        if (t == "Sequence") {
            const json& list = array(member(n, "normalizers", path), path + ".normalizers");
            for (std::size_t k = 0; k < list.size(); ++k)
                normalizer(list[k], path + ".normalizers[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "Prepend") {
            step.op = P::Normalizer::Op::Prepend;
            step.pattern = string(member(n, "prepend", path), path + ".prepend");
        } else if (t == "Replace") {
            step.op = P::Normalizer::Op::Replace;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            step.content = string(member(n, "content", path), path + ".content");
        } else if (t == "Strip") {
            step.op = P::Normalizer::Op::Strip;
            step.stripLeft = boolean(n, "strip_left", false, path);
            step.stripRight = boolean(n, "strip_right", false, path);
        } else if (t == "NFC") {
            step.op = P::Normalizer::Op::Nfc;
        } else {
            fail(path + ": normalizer type " + t + " not supported yet");
        }
        out.normalizers.push_back(std::move(step));
    }

    void preTokenizer(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": pre-tokenizers nested too deeply");
        const std::string t = type(n, path);
        P::PreTokenizer step;
        if (t == "Sequence") {
            const json& list = array(member(n, "pretokenizers", path), path + ".pretokenizers");
            for (std::size_t k = 0; k < list.size(); ++k)
                preTokenizer(list[k], path + ".pretokenizers[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "Split") {
            step.op = P::PreTokenizer::Op::Split;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            step.invert = boolean(n, "invert", false, path);
            static const std::map<std::string, P::SplitBehavior> behaviors = {
                {"Removed", P::SplitBehavior::Removed},
                {"Isolated", P::SplitBehavior::Isolated},
                {"MergedWithPrevious", P::SplitBehavior::MergedWithPrevious},
                {"MergedWithNext", P::SplitBehavior::MergedWithNext},
                {"Contiguous", P::SplitBehavior::Contiguous}};
            const std::string b = string(member(n, "behavior", path), path + ".behavior");
            auto it = behaviors.find(b);
            if (it == behaviors.end())
                fail(path + ".behavior: expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                            "Contiguous, found \"" + b + "\"");
            step.behavior = it->second;
        } else if (t == "ByteLevel") {
            step.op = P::PreTokenizer::Op::ByteLevel;
            step.addPrefixSpace = boolean(n, "add_prefix_space", true, path);
            step.useRegex = boolean(n, "use_regex", true, path);
        } else if (t == "Metaspace") {
            step.op = P::PreTokenizer::Op::Metaspace;
            step.replacement = replacementChar(n, path);
            step.prependScheme = prependScheme(n, path);
            step.split = boolean(n, "split", true, path);
        } else if (t == "Digits") {
            step.op = P::PreTokenizer::Op::Digits;
            step.individualDigits = boolean(n, "individual_digits", false, path);
        } else {
            fail(path + ": pre-tokenizer type " + t + " not supported yet");
        }
        out.preTokenizers.push_back(std::move(step));
    }

    void decoder(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": decoders nested too deeply");
        const std::string t = type(n, path);
        P::Decoder step;
        if (t == "Sequence") {
            const json& list = array(member(n, "decoders", path), path + ".decoders");
            for (std::size_t k = 0; k < list.size(); ++k)
                decoder(list[k], path + ".decoders[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "ByteLevel") {
            step.op = P::Decoder::Op::ByteLevel;
        } else if (t == "Replace") {
            step.op = P::Decoder::Op::Replace;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            if (step.regex)
                fail(path + ": a Replace decoder with a regex pattern is not supported yet");
            step.content = string(member(n, "content", path), path + ".content");
        } else if (t == "ByteFallback") {
            step.op = P::Decoder::Op::ByteFallback;
        } else if (t == "Fuse") {
            step.op = P::Decoder::Op::Fuse;
        } else if (t == "Strip") {
            step.op = P::Decoder::Op::Strip;
            step.content = string(member(n, "content", path), path + ".content");
            std::size_t i = 0;
            if (step.content.empty() || (unicode::next(step.content, i), i != step.content.size()))
                fail(path + ".content: expected exactly one character");
            step.start = static_cast<std::size_t>(integer(member(n, "start", path), 0, 1 << 20, path + ".start"));
            step.stop = static_cast<std::size_t>(integer(member(n, "stop", path), 0, 1 << 20, path + ".stop"));
        } else if (t == "Metaspace") {
            step.op = P::Decoder::Op::Metaspace;
            step.replacement = replacementChar(n, path);
            step.prependScheme = prependScheme(n, path);
        } else {
            fail(path + ": decoder type " + t + " not supported yet");
        }
        out.decoders.push_back(std::move(step));
    }

    // The special tokens a post-processor puts around a single sequence, as token names.
    void postProcessor(const json& n, const std::string& path, int depth, std::vector<std::int32_t>& before,
                       std::vector<std::int32_t>& after) const
    {
        if (depth > kMaxNesting)
            fail(path + ": post-processors nested too deeply");
        const std::string t = type(n, path);
        if (t == "Sequence") {
            const json& list = array(member(n, "processors", path), path + ".processors");
            for (std::size_t k = 0; k < list.size(); ++k)
                postProcessor(list[k], path + ".processors[" + std::to_string(k) + "]", depth + 1, before, after);
        } else if (t == "ByteLevel") {
            // only adjusts offsets
        } else if (t == "TemplateProcessing") {
            const json& single = array(member(n, "single", path), path + ".single");
            const json& specials = object(member(n, "special_tokens", path), path + ".special_tokens");
            bool seenSequence = false;
            for (std::size_t k = 0; k < single.size(); ++k) {
                const std::string ip = path + ".single[" + std::to_string(k) + "]";
                const json& item = object(single[k], ip);
                if (item.contains("Sequence")) {
                    seenSequence = true;
                    continue;
                }
                const json& sp = object(member(item, "SpecialToken", ip), ip + ".SpecialToken");
                const std::string name = string(member(sp, "id", ip + ".SpecialToken"), ip + ".SpecialToken.id");
                if (!specials.contains(name))
                    fail(ip + ": special token \"" + name + "\" is not in " + path + ".special_tokens");
                const std::string sp2 = path + ".special_tokens[\"" + name + "\"]";
                const json& ids = array(member(object(specials[name], sp2), "ids", sp2), sp2 + ".ids");
                for (std::size_t j = 0; j < ids.size(); ++j)
                    (seenSequence ? after : before)
                        .push_back(static_cast<std::int32_t>(integer(ids[j], 0, INT32_MAX, sp2 + ".ids")));
            }
        } else if (t == "BertProcessing" || t == "RobertaProcessing") {
            for (const char* key : {"cls", "sep"}) {
                const json& pair = array(member(n, key, path), path + "." + key);
                if (pair.size() != 2)
                    fail(path + "." + key + ": expected [token, id]");
                const auto id = static_cast<std::int32_t>(integer(pair[1], 0, INT32_MAX, path + "." + key + "[1]"));
                (std::string(key) == "cls" ? before : after).push_back(id);
            }
        } else {
            fail(path + ": post-processor type " + t + " not supported yet");
        }
    }

    json parse(const std::string& text) const
    {
        try {
            return json::parse(text);
        } catch (const json::parse_error& e) {
            // nlohmann's message quotes the offending bytes, which may be invalid UTF-8.
            throw FormatError(file_, e.byte > 0 ? std::optional<std::uint64_t>(e.byte - 1) : std::nullopt,
                              "invalid JSON: " + unicode::toValidUtf8(e.what()));
        }
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
};

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
std::optional<std::string> configToken(const Parser& p, const json& cfg, const char* key)
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
    const Parser p(file);
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

    P pipeline;
    pipeline.fuseUnk = p.boolean(model, "fuse_unk", false, "model");
    pipeline.ignoreMerges = p.boolean(model, "ignore_merges", false, "model");
    if (root.contains("normalizer") && !root["normalizer"].is_null())
        p.normalizer(root["normalizer"], "normalizer", 0, pipeline);
    if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null())
        p.preTokenizer(root["pre_tokenizer"], "pre_tokenizer", 0, pipeline);
    if (root.contains("decoder") && !root["decoder"].is_null()) {
        pipeline.hasDecoder = true;
        p.decoder(root["decoder"], "decoder", 0, pipeline);
    }
    std::vector<std::int32_t> before, after;
    if (root.contains("post_processor") && !root["post_processor"].is_null())
        p.postProcessor(root["post_processor"], "post_processor", 0, before, after);
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
        const Parser p(tokenizerConfigJson->string());
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
