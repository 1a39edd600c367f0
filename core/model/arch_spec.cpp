#include "core/model/arch_spec.hpp"

#include "core/io/mapped_file.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace qs::model {

namespace {

using nlohmann::json;

struct Family {
    std::string_view architecture;
    std::string_view modelType;
};

constexpr std::array<Family, 4> kSupported{{
    {"LlamaForCausalLM", "llama"},
    {"MistralForCausalLM", "mistral"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"Qwen3ForCausalLM", "qwen3"},
}};

constexpr std::uint64_t kMaxConfigBytes = 16ull * 1024 * 1024;

// Reads config keys with the file name at hand so every error names file and key.
class ConfigReader {
public:
    ConfigReader(const json& root, std::string file) : root_(root), file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& detail) const { throw io::FormatError(file_, detail); }
    const std::string& file() const { return file_; }

    // Absent and null both mean "not given": HF writes null for unset optional fields.
    const json* find(const char* key) const
    {
        const auto it = root_.find(key);
        return it == root_.end() || it->is_null() ? nullptr : &*it;
    }

    std::int64_t requiredPositive(const char* key) const
    {
        const json* v = find(key);
        if (!v)
            fail(std::string("missing required key \"") + key + "\"");
        return positive(key, *v);
    }

    std::optional<std::int64_t> optionalPositive(const char* key) const
    {
        const json* v = find(key);
        return v ? std::optional(positive(key, *v)) : std::nullopt;
    }

    std::optional<std::int64_t> optionalInt(const char* key) const
    {
        const json* v = find(key);
        if (!v)
            return std::nullopt;
        if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX))
            fail(std::string("expected \"") + key + "\" to be an integer, found " + v->dump());
        return v->get<std::int64_t>();
    }

    double number(const char* key, double fallback) const
    {
        const json* v = find(key);
        if (!v)
            return fallback;
        if (!v->is_number())
            fail(std::string("expected \"") + key + "\" to be a number, found " + v->dump());
        return v->get<double>();
    }

    bool boolean(const char* key, bool fallback) const
    {
        const json* v = find(key);
        if (!v)
            return fallback;
        if (!v->is_boolean())
            fail(std::string("expected \"") + key + "\" to be true or false, found " + v->dump());
        return v->get<bool>();
    }

    std::string string(const char* key) const
    {
        const json* v = find(key);
        if (!v)
            return {};
        if (!v->is_string())
            fail(std::string("expected \"") + key + "\" to be a string, found " + v->dump());
        return v->get<std::string>();
    }

    // eos_token_id may be one id or a list of ids (Llama 3.1 instruct): the first is "the" EOS.
    std::optional<std::int64_t> tokenId(const char* key) const
    {
        const json* v = find(key);
        if (!v)
            return std::nullopt;
        const json& first = v->is_array() ? (v->empty() ? json() : v->front()) : *v;
        if (first.is_null())
            return std::nullopt;
        if (!first.is_number_integer() || (first.is_number_unsigned() && first.get<std::uint64_t>() > INT64_MAX))
            fail(std::string("expected \"") + key + "\" to be a token id or a list of them, found " + v->dump());
        return first.get<std::int64_t>();
    }

    std::optional<RopeScaling> ropeScaling() const
    {
        // transformers >= 5 writes "rope_parameters" (theta and scaling together).
        const char* key = find("rope_scaling") ? "rope_scaling" : "rope_parameters";
        const json* v = find(key);
        if (!v)
            return std::nullopt;
        if (!v->is_object())
            fail(std::string("expected \"") + key + "\" to be an object or null, found " + v->dump());
        ConfigReader sub(*v, file_ + ": " + key);
        RopeScaling r;
        // transformers >= 4.43 writes "rope_type"; older configs write "type".
        r.type = sub.string("rope_type");
        if (r.type.empty())
            r.type = sub.string("type");
        if (r.type.empty() || r.type == "default")
            return std::nullopt; // unscaled RoPE
        r.factor = sub.number("factor", 1.0);
        r.lowFreqFactor = sub.number("low_freq_factor", 1.0);
        r.highFreqFactor = sub.number("high_freq_factor", 4.0);
        r.originalMaxPositionEmbeddings = sub.optionalInt("original_max_position_embeddings").value_or(0);
        if (!(r.factor > 0))
            sub.fail("expected \"factor\" to be positive");
        if (r.type == "llama3") {
            if (!sub.find("original_max_position_embeddings"))
                sub.fail("rope_type llama3 needs \"original_max_position_embeddings\"");
            if (!(r.lowFreqFactor > 0) || !(r.highFreqFactor > r.lowFreqFactor))
                sub.fail("rope_type llama3 needs 0 < low_freq_factor < high_freq_factor");
        }
        return r;
    }

private:
    std::int64_t positive(const char* key, const json& v) const
    {
        if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) ||
            v.get<std::int64_t>() <= 0)
            fail(std::string("expected \"") + key + "\" to be a positive integer, found " + v.dump());
        return v.get<std::int64_t>();
    }

    const json& root_;
    std::string file_;
};

const Family* supportedFamily(const std::string& architecture)
{
    for (const auto& f : kSupported)
        if (f.architecture == architecture)
            return &f;
    return nullptr;
}

// Fills the shape fields; for supported architectures every failure is an error, for
// unknown ones the caller swallows errors and keeps what was read.
void readDimensions(const ConfigReader& c, ArchSpec& s)
{
    s.vocabSize = c.requiredPositive("vocab_size");
    s.hiddenSize = c.requiredPositive("hidden_size");
    s.intermediateSize = c.requiredPositive("intermediate_size");
    s.numLayers = c.requiredPositive("num_hidden_layers");
    s.numHeads = c.requiredPositive("num_attention_heads");
    s.numKvHeads = c.optionalPositive("num_key_value_heads").value_or(s.numHeads);
    if (const auto hd = c.optionalPositive("head_dim")) {
        s.headDim = *hd;
    } else {
        if (s.hiddenSize % s.numHeads != 0)
            c.fail("hidden_size " + std::to_string(s.hiddenSize) + " is not divisible by num_attention_heads " +
                   std::to_string(s.numHeads) + " and no head_dim is given");
        s.headDim = s.hiddenSize / s.numHeads;
    }
    if (s.numHeads % s.numKvHeads != 0)
        c.fail("num_attention_heads " + std::to_string(s.numHeads) + " is not divisible by num_key_value_heads " +
               std::to_string(s.numKvHeads));
    s.maxPositionEmbeddings = c.optionalPositive("max_position_embeddings").value_or(0);
}

void readCommon(const ConfigReader& c, ArchSpec& s)
{
    s.rmsNormEps = c.number("rms_norm_eps", 1e-6);
    if (!(s.rmsNormEps > 0))
        c.fail("expected \"rms_norm_eps\" to be positive");
    s.ropeTheta = c.number("rope_theta", 0.0);
    if (s.ropeTheta == 0.0) {
        const json* params = c.find("rope_parameters");
        s.ropeTheta = params && params->is_object()
                          ? ConfigReader(*params, c.file() + ": rope_parameters").number("rope_theta", 10000.0)
                          : 10000.0;
    }
    if (!(s.ropeTheta > 0))
        c.fail("expected \"rope_theta\" to be positive");
    s.ropeScaling = c.ropeScaling();
    s.tieWordEmbeddings = c.boolean("tie_word_embeddings", false);
    // transformers >= 4.56 renamed torch_dtype to dtype.
    s.torchDtype = c.string("torch_dtype");
    if (s.torchDtype.empty())
        s.torchDtype = c.string("dtype");
    s.bosTokenId = c.tokenId("bos_token_id");
    s.eosTokenId = c.tokenId("eos_token_id");
}

void readFamilyFeatures(const ConfigReader& c, const Family& family, ArchSpec& s)
{
    const bool attentionBias = c.boolean("attention_bias", false);
    if (family.modelType == "qwen2") {
        s.qkvBias = true; // Qwen2/2.5 always carry q/k/v biases (no config switch)
    } else {
        s.qkvBias = attentionBias;
    }
    s.qkNorm = family.modelType == "qwen3";
    const auto window = c.optionalPositive("sliding_window");
    // Qwen configs carry a sliding_window that is off unless use_sliding_window is set.
    const bool windowUsed = family.modelType == "mistral" || c.boolean("use_sliding_window", false);
    if (window && windowUsed)
        s.slidingWindow = window;
}

} // namespace

ArchSpec parseHfConfigText(const std::string& text, const std::string& fileNameForErrors)
{
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        throw io::FormatError(fileNameForErrors, e.byte > 0 ? e.byte - 1 : 0, std::string("invalid JSON: ") + e.what());
    } catch (const json::exception& e) { // e.g. out_of_range for a number like 1e999
        throw io::FormatError(fileNameForErrors, std::string("invalid JSON: ") + e.what());
    }
    if (!root.is_object())
        throw io::FormatError(fileNameForErrors, std::string("expected a JSON object, found ") + root.type_name());
    const ConfigReader c(root, fileNameForErrors);

    ArchSpec s;
    s.modelType = c.string("model_type");
    if (const json* archs = c.find("architectures")) {
        if (!archs->is_array() || (!archs->empty() && !archs->front().is_string()))
            c.fail("expected \"architectures\" to be a list of names, found " + archs->dump());
        if (!archs->empty())
            s.architecture = archs->front().get<std::string>();
    }
    if (s.architecture.empty())
        for (const auto& f : kSupported)
            if (f.modelType == s.modelType)
                s.architecture = std::string(f.architecture);

    const Family* family = supportedFamily(s.architecture);
    if (!family) {
        s.supported = false;
        s.unsupportedReason =
            "not supported yet: " + (s.architecture.empty() ? "(no architectures or model_type in config)" : s.architecture);
        // Best effort for display; an unknown architecture may name its fields differently.
        try {
            readDimensions(c, s);
            readCommon(c, s);
        } catch (const io::FormatError&) {
        }
        return s;
    }
    if (s.modelType.empty())
        s.modelType = std::string(family->modelType);
    s.supported = true;
    readDimensions(c, s);
    readCommon(c, s);
    readFamilyFeatures(c, *family, s);
    return s;
}

ArchSpec parseHfConfig(const std::filesystem::path& configJson)
{
    const io::MappedFile file(configJson);
    if (file.size() > kMaxConfigBytes)
        throw io::FormatError(file.name(), "config is " + std::to_string(file.size()) + " bytes, over the " +
                                               std::to_string(kMaxConfigBytes) + "-byte limit");
    const auto bytes = file.bytes();
    return parseHfConfigText(std::string(bytes.begin(), bytes.end()), file.name());
}

} // namespace qs::model
