// general.architecture and the <arch>.* hyper-parameter keys to an ArchSpec. GGUF names the
// same facts as HF config.json under other names; tensor presence answers the rest
// (tied embeddings, qkv bias, q/k norm) the way llama.cpp itself decides them.
#include "core/io/gguf_specs.hpp"

#include <algorithm>
#include <array>

namespace qs::io::gguf {

namespace {

constexpr std::array kSupportedArchs{"llama", "mistral", "qwen2", "qwen3"};

bool hasTensor(const std::vector<TensorInfo>& tensors, const std::string& name)
{
    return std::any_of(tensors.begin(), tensors.end(), [&](const TensorInfo& t) { return t.name == name; });
}

// Some converters store per-layer values (e.g. head_count_kv) as an array: take layer 0's.
std::optional<std::int64_t> integerOrFirst(const MetadataView& m, const std::string& key)
{
    const GgufValue* v = m.find(key);
    if (!v)
        return std::nullopt;
    if (const auto* a = std::get_if<std::vector<GgufValue>>(&v->value)) {
        if (a->empty())
            m.fail(key, "a non-empty array");
        if (auto i = asInteger(a->front()))
            return i;
        m.fail(key, "an array of integers");
    }
    return m.integer(key);
}

std::int64_t required(const MetadataView& m, const std::string& key)
{
    auto v = integerOrFirst(m, key);
    if (!v)
        m.fail(key, "an integer");
    if (*v <= 0)
        m.fail(key, "a positive integer");
    return *v;
}

} // namespace

model::ArchSpec archSpecFrom(const Values& values, const std::vector<TensorInfo>& tensors, const std::string& file)
{
    const MetadataView m(values, file);
    model::ArchSpec s;
    const std::string arch = m.string("general.architecture").value_or("");
    s.architecture = arch;
    s.modelType = arch;
    s.supported = std::find(kSupportedArchs.begin(), kSupportedArchs.end(), arch) != kSupportedArchs.end();
    if (!s.supported)
        s.unsupportedReason = "not supported yet: " + (arch.empty() ? std::string("(no general.architecture)") : arch);

    const std::string p = arch + ".";
    // A supported architecture needs its shape; an unknown one is filled as far as it goes.
    if (s.supported) {
        s.hiddenSize = required(m, p + "embedding_length");
        s.numLayers = required(m, p + "block_count");
        s.numHeads = required(m, p + "attention.head_count");
        s.intermediateSize = required(m, p + "feed_forward_length");
    } else {
        s.hiddenSize = integerOrFirst(m, p + "embedding_length").value_or(0);
        s.numLayers = integerOrFirst(m, p + "block_count").value_or(0);
        s.numHeads = integerOrFirst(m, p + "attention.head_count").value_or(0);
        s.intermediateSize = integerOrFirst(m, p + "feed_forward_length").value_or(0);
    }
    s.numKvHeads = integerOrFirst(m, p + "attention.head_count_kv").value_or(s.numHeads);
    if (auto k = integerOrFirst(m, p + "attention.key_length"))
        s.headDim = *k;
    else if (s.numHeads > 0)
        s.headDim = s.hiddenSize / s.numHeads;
    s.maxPositionEmbeddings = integerOrFirst(m, p + "context_length").value_or(0);
    if (auto eps = m.number(p + "attention.layer_norm_rms_epsilon"))
        s.rmsNormEps = *eps;
    s.ropeTheta = m.number(p + "rope.freq_base").value_or(10000.0);
    if (auto type = m.string(p + "rope.scaling.type"); type && *type != "none") {
        model::RopeScaling rs;
        rs.type = *type;
        rs.factor = m.number(p + "rope.scaling.factor").value_or(1.0);
        rs.originalMaxPositionEmbeddings = m.integer(p + "rope.scaling.original_context_length").value_or(0);
        s.ropeScaling = rs;
    }
    if (auto w = integerOrFirst(m, p + "attention.sliding_window"); w && *w > 0)
        s.slidingWindow = *w;

    if (auto n = m.integer(p + "vocab_size"))
        s.vocabSize = *n;
    else if (const auto* tokens = m.array("tokenizer.ggml.tokens"))
        s.vocabSize = static_cast<std::int64_t>(tokens->size());
    else if (const auto it = std::find_if(tensors.begin(), tensors.end(),
                                          [](const TensorInfo& t) { return t.name == "token_embd.weight"; });
             it != tensors.end() && it->shape.size() == 2)
        s.vocabSize = it->shape[0];

    // llama.cpp ties the output projection to token_embd when output.weight is absent.
    s.tieWordEmbeddings = !hasTensor(tensors, "output.weight");
    s.qkvBias = hasTensor(tensors, "blk.0.attn_q.bias");
    s.qkNorm = hasTensor(tensors, "blk.0.attn_q_norm.weight");
    if (auto id = m.integer("tokenizer.ggml.bos_token_id"))
        s.bosTokenId = *id;
    if (auto id = m.integer("tokenizer.ggml.eos_token_id"))
        s.eosTokenId = *id;
    return s;
}

} // namespace qs::io::gguf
