#include "core/export/gguf_llama_metadata.hpp"

#include "core/io/gguf.hpp"
#include "core/io/gguf_specs.hpp"
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

namespace qs::exporting {

namespace fs = std::filesystem;

namespace {

// llama.cpp's token types.
enum TokenType : std::int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

fs::path sourceFolder(const model::Model& m)
{
    std::error_code ec;
    return fs::is_directory(m.source, ec) ? m.source : m.source.parent_path();
}

std::optional<nlohmann::json> readJson(const fs::path& p)
{
    std::ifstream f(p);
    if (!f)
        return std::nullopt;
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded())
        return std::nullopt;
    return j;
}

bool isByteToken(const std::string& t)
{
    return t.size() == 6 && t.rfind("<0x", 0) == 0 && t.back() == '>';
}

// tokenizer_config.json names special tokens as a string or as {"content": ...}.
std::optional<std::string> specialTokenText(const nlohmann::json& config, const char* key)
{
    if (!config.contains(key))
        return std::nullopt;
    const auto& v = config[key];
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    return std::nullopt;
}

std::string preTokenizerName(const io::TokenizerSpec& spec, bool& known)
{
    known = true;
    for (const char* name : {"gpt-2", "llama-bpe", "qwen2"})
        if (spec.splitPatterns.empty() ? std::string(name) == "gpt-2" : io::gguf::splitPatternsForPre(name) == spec.splitPatterns)
            return name;
    known = false;
    return "default";
}

} // namespace

std::string ggufArchitecture(const model::ArchSpec& spec)
{
    if (spec.modelType == "llama" || spec.modelType == "mistral")
        return "llama";
    if (spec.modelType == "qwen2" || spec.modelType == "qwen3")
        return spec.modelType;
    throw Error("GGUF export: architecture \"" + spec.modelType + "\" is not supported (llama, mistral, qwen2, qwen3)");
}

bool ggufPermutesQk(const model::ArchSpec& spec)
{
    return ggufArchitecture(spec) == "llama";
}

void addModelMetadata(GgufFileWriter& w, const model::Model& source, const model::ArchSpec& spec,
                      const GgufFileType& fileType)
{
    const std::string arch = ggufArchitecture(spec);
    const std::string p = arch + ".";
    w.setString("general.architecture", arch);
    std::string name = sourceFolder(source).filename().string();
    w.setString("general.name", name.empty() ? std::string("model") : name);
    w.setU32("general.file_type", fileType.ftype);
    w.setU32("general.quantization_version", 2);
    if (spec.maxPositionEmbeddings > 0)
        w.setU32(p + "context_length", std::uint32_t(spec.maxPositionEmbeddings));
    w.setU32(p + "embedding_length", std::uint32_t(spec.hiddenSize));
    w.setU32(p + "block_count", std::uint32_t(spec.numLayers));
    w.setU32(p + "feed_forward_length", std::uint32_t(spec.intermediateSize));
    w.setU32(p + "attention.head_count", std::uint32_t(spec.numHeads));
    w.setU32(p + "attention.head_count_kv", std::uint32_t(spec.numKvHeads));
    w.setF32(p + "rope.freq_base", float(spec.ropeTheta));
    w.setF32(p + "attention.layer_norm_rms_epsilon", float(spec.rmsNormEps));
    if (spec.headDim != spec.hiddenSize / spec.numHeads) {
        w.setU32(p + "attention.key_length", std::uint32_t(spec.headDim));
        w.setU32(p + "attention.value_length", std::uint32_t(spec.headDim));
    }
    w.setU32(p + "rope.dimension_count", std::uint32_t(spec.headDim));
    w.setU32(p + "vocab_size", std::uint32_t(spec.vocabSize));
    if (spec.ropeScaling && (spec.ropeScaling->type == "linear" || spec.ropeScaling->type == "yarn")) {
        // llama3 scaling travels as the rope_freqs.weight tensor instead, as llama.cpp's converter writes it.
        w.setString(p + "rope.scaling.type", spec.ropeScaling->type);
        w.setF32(p + "rope.scaling.factor", float(spec.ropeScaling->factor));
        if (spec.ropeScaling->originalMaxPositionEmbeddings > 0)
            w.setU32(p + "rope.scaling.original_context_length",
                     std::uint32_t(spec.ropeScaling->originalMaxPositionEmbeddings));
    }
}

std::vector<float> llama3RopeFactors(const model::ArchSpec& spec)
{
    if (!spec.ropeScaling || spec.ropeScaling->type != "llama3")
        return {};
    const auto& rs = *spec.ropeScaling;
    const double oldContext = double(rs.originalMaxPositionEmbeddings > 0 ? rs.originalMaxPositionEmbeddings : 8192);
    const double lowWavelen = oldContext / rs.lowFreqFactor, highWavelen = oldContext / rs.highFreqFactor;
    const double pi = 3.14159265358979323846;
    std::vector<float> factors;
    for (std::int64_t i = 0; i < spec.headDim; i += 2) {
        const double freq = 1.0 / std::pow(spec.ropeTheta, double(i) / double(spec.headDim));
        const double wavelen = 2 * pi / freq;
        if (wavelen < highWavelen)
            factors.push_back(1.0f);
        else if (wavelen > lowWavelen)
            factors.push_back(float(rs.factor));
        else {
            const double smooth = (oldContext / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
            factors.push_back(float(1.0 / ((1 - smooth) / rs.factor + smooth)));
        }
    }
    return factors;
}

void addTokenizerMetadata(GgufFileWriter& w, const model::Model& source, std::int64_t vocabSize,
                          std::vector<std::string>& notes)
{
    if (const auto* gguf = dynamic_cast<const io::GgufCheckpoint*>(source.checkpoint.get())) {
        bool any = false;
        for (const auto& [key, value] : gguf->values())
            if (key.rfind("tokenizer.", 0) == 0) {
                w.setValue(key, value);
                any = true;
            }
        if (!any)
            notes.push_back("the source GGUF has no tokenizer metadata; llama.cpp cannot run the file without one");
        return;
    }
    if (!source.tokenizer) {
        notes.push_back("the model has no usable tokenizer" +
                        (source.tokenizerError.empty() ? std::string() : " (" + source.tokenizerError + ")") +
                        "; the file has no tokenizer.ggml.* metadata and llama.cpp cannot run it");
        return;
    }
    const io::TokenizerSpec& spec = source.tokenizer->spec();
    const bool sp = spec.kind == io::TokenizerSpec::Kind::SentencePiece;
    w.setString("tokenizer.ggml.model", sp ? "llama" : "gpt2");
    if (!sp) {
        bool known = true;
        const std::string pre = preTokenizerName(spec, known);
        w.setString("tokenizer.ggml.pre", pre);
        if (!known)
            notes.push_back("the tokenizer's split regex matches none of llama.cpp's gpt-2/llama-bpe/qwen2 "
                            "pre-tokenizers; written as \"default\"");
    }

    // Tokens, padded to the embedding's rows as the converter pads them ("[PAD<id>]").
    const std::size_t n = std::max<std::size_t>(spec.vocab.size(), std::size_t(std::max<std::int64_t>(vocabSize, 0)));
    std::vector<std::string> tokens(n);
    std::vector<std::int32_t> types(n, Normal);
    for (std::size_t i = 0; i < n; ++i) {
        if (i < spec.vocab.size() && !spec.vocab[i].empty()) {
            tokens[i] = spec.vocab[i];
            if (sp && isByteToken(tokens[i]))
                types[i] = Byte;
        } else {
            tokens[i] = "[PAD" + std::to_string(i) + "]";
            types[i] = Unused;
        }
    }
    for (const auto& a : spec.addedTokens)
        if (a.id >= 0 && std::size_t(a.id) < n)
            types[std::size_t(a.id)] = a.special ? Control : UserDefined;
    if (spec.unkId && std::size_t(*spec.unkId) < n)
        types[std::size_t(*spec.unkId)] = Unknown;
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setI32Array("tokenizer.ggml.token_type", types);

    std::vector<std::string> merges;
    merges.reserve(spec.merges.size());
    for (const auto& [l, r] : spec.merges)
        merges.push_back(l + " " + r);
    if (sp) {
        // llama.cpp's sentencepiece tokenizer merges by score: the product of merge rank r scores -r.
        std::map<std::string, std::size_t> rankOf;
        for (std::size_t r = 0; r < spec.merges.size(); ++r)
            rankOf.emplace(spec.merges[r].first + spec.merges[r].second, r);
        std::vector<float> scores(n, 0.0f);
        for (std::size_t i = 0; i < n; ++i) {
            if (types[i] != Normal)
                continue;
            const auto it = rankOf.find(tokens[i]);
            scores[i] = it != rankOf.end() ? -float(it->second) : -float(spec.merges.size() + i);
        }
        w.setF32Array("tokenizer.ggml.scores", scores);
        w.setBool("tokenizer.ggml.add_space_prefix", spec.addPrefixSpace);
    }
    w.setStringArray("tokenizer.ggml.merges", merges);
    if (spec.bosId)
        w.setU32("tokenizer.ggml.bos_token_id", std::uint32_t(*spec.bosId));
    if (spec.eosId)
        w.setU32("tokenizer.ggml.eos_token_id", std::uint32_t(*spec.eosId));
    if (spec.unkId)
        w.setU32("tokenizer.ggml.unknown_token_id", std::uint32_t(*spec.unkId));
    w.setBool("tokenizer.ggml.add_bos_token", spec.addBos);
    w.setBool("tokenizer.ggml.add_eos_token", spec.addEos);

    if (const auto config = readJson(sourceFolder(source) / "tokenizer_config.json")) {
        if (const auto pad = specialTokenText(*config, "pad_token"))
            if (const auto id = source.tokenizer->tokenId(*pad))
                w.setU32("tokenizer.ggml.padding_token_id", std::uint32_t(*id));
        if (config->contains("chat_template") && (*config)["chat_template"].is_string())
            w.setString("tokenizer.chat_template", (*config)["chat_template"].get<std::string>());
    }
}

} // namespace qs::exporting
