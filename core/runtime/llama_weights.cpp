#include "core/runtime/llama_weights.hpp"

#include "core/compute/backend.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/checkpoint_linear.hpp"
#include "core/runtime/quantized_loading.hpp"
#include "core/util/error.hpp"

#include <spdlog/spdlog.h>

namespace qs::runtime {

const char* linearRoleName(LinearRole r)
{
    switch (r) {
    case LinearRole::Q: return "q_proj";
    case LinearRole::K: return "k_proj";
    case LinearRole::V: return "v_proj";
    case LinearRole::O: return "o_proj";
    case LinearRole::Gate: return "gate_proj";
    case LinearRole::Up: return "up_proj";
    case LinearRole::Down: return "down_proj";
    }
    return "?";
}

namespace {

// Tensor names differ between HF checkpoints and GGUF files; one table maps both.
struct Naming {
    bool gguf;
    std::string embedding() const { return gguf ? "token_embd.weight" : "model.embed_tokens.weight"; }
    std::string finalNorm() const { return gguf ? "output_norm.weight" : "model.norm.weight"; }
    std::string lmHead() const { return gguf ? "output.weight" : "lm_head.weight"; }
    std::string block(int i, const std::string& hf, const std::string& gg) const
    {
        return gguf ? "blk." + std::to_string(i) + "." + gg : "model.layers." + std::to_string(i) + "." + hf;
    }
    std::string linear(int i, LinearRole r, const char* suffix) const
    {
        static const char* hf[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                   "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        static const char* gg[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        return block(i, std::string(hf[int(r)]) + suffix, std::string(gg[int(r)]) + suffix);
    }
};

class Loader {
public:
    explicit Loader(const io::Checkpoint& ck) : ck_(ck) {}

    bool has(const std::string& name) const { return ck_.find(name) != nullptr; }

    Mat matrix(const std::string& name, std::int64_t rows, std::int64_t cols) const
    {
        Tensor t = read(name);
        if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols)
            throw Error(ck_.path().string() + ": tensor " + name + " has shape " + shapeToString(t.shape) +
                        ", expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
        return Eigen::Map<const Mat>(t.data.data(), rows, cols);
    }

    Vec vector(const std::string& name, std::int64_t n) const
    {
        Tensor t = read(name);
        if (t.shape.size() != 1 || t.shape[0] != n)
            throw Error(ck_.path().string() + ": tensor " + name + " has shape " + shapeToString(t.shape) +
                        ", expected [" + std::to_string(n) + "]");
        return Eigen::Map<const Vec>(t.data.data(), n);
    }

private:
    Tensor read(const std::string& name) const
    {
        if (!has(name))
            throw Error(ck_.path().string() + ": missing tensor " + name);
        return ck_.readF32(name);
    }
    const io::Checkpoint& ck_;
};

} // namespace

LlamaWeights loadLlamaWeights(const model::Model& model, const LoadOptions& options)
{
    const auto& s = model.spec;
    if (!s.supported)
        throw Error(model.source.string() + ": " + s.unsupportedReason);
    const io::Checkpoint& ck = *model.checkpoint;
    const Naming names{ck.format() == "gguf"};
    const Loader load(ck);

    LlamaWeights w;
    w.spec = s;
    // llama.cpp's converter permutes q/k rows of Llama models so that ggml's interleaved RoPE
    // applies; Qwen GGUFs keep HF's rotate-half layout (NEOX mode).
    w.ropeInterleaved = names.gguf && (s.modelType == "llama" || s.modelType == "mistral");

    const std::int64_t H = s.hiddenSize, I = s.intermediateSize, D = s.headDim;
    const std::int64_t qDim = s.numHeads * D, kvDim = s.numKvHeads * D;
    w.embedding = load.matrix(names.embedding(), s.vocabSize, H);

    // Packed GPTQ/AWQ/NF4 linears (quantization_config in config.json) run on this backend.
    const auto packed = checkpointQuantization(model);
    std::shared_ptr<compute::Backend> packedBackend = options.linearBackend;
    if (packed && !packedBackend)
        packedBackend = compute::makeCpuBackend();
    const io::RawTensorReader raw(ck);

    const std::int64_t outDims[] = {qDim, kvDim, kvDim, H, I, I, H};
    const std::int64_t inDims[] = {H, H, H, qDim, H, H, I};
    for (int i = 0; i < s.numLayers; ++i) {
        BlockWeights b;
        for (LinearRole r : kAllLinearRoles) {
            const int ri = int(r);
            std::optional<Vec> bias;
            const std::string biasName = names.linear(i, r, ".bias");
            if (load.has(biasName))
                bias = load.vector(biasName, outDims[ri]);
            if (packed) {
                b.linear(r) = loadPackedLinear(raw, *packed, names.linear(i, r, ""), int(outDims[ri]), int(inDims[ri]),
                                               std::move(bias), packedBackend);
                continue;
            }
            if (options.lazyLinears && !options.linearBackend) {
                b.linear(r) = std::make_shared<CheckpointLinear>(ck, names.linear(i, r, ".weight"), int(outDims[ri]),
                                                                 int(inDims[ri]), std::move(bias));
                continue;
            }
            const std::string weightName = names.linear(i, r, ".weight");
            if (options.linearBackend && !names.gguf && load.has(weightName) &&
                ck.find(weightName)->dtype == "F16") {
                // f16 in the file, f16 on the backend: the bits as they are (what the round trip
                // through f32 gives, without it).
                compute::DenseHalf half;
                half.n = int(outDims[ri]);
                half.k = int(inDims[ri]);
                half.bits = raw.array<std::uint16_t>(weightName, DType::F16, Shape{outDims[ri], inDims[ri]});
                b.linear(r) = std::make_shared<BackendLinear>(
                    options.linearBackend, std::make_shared<const compute::WeightMatrix>(std::move(half)), std::move(bias));
                continue;
            }
            Mat weight = load.matrix(weightName, outDims[ri], inDims[ri]);
            if (options.linearBackend)
                b.linear(r) = std::make_shared<BackendLinear>(
                    options.linearBackend, std::make_shared<const compute::WeightMatrix>(toDenseHalf(weight)),
                    std::move(bias));
            else
                b.linear(r) = std::make_shared<DenseLinear>(std::move(weight), std::move(bias));
        }
        b.inputNorm = load.vector(names.block(i, "input_layernorm.weight", "attn_norm.weight"), H);
        b.postAttentionNorm = load.vector(names.block(i, "post_attention_layernorm.weight", "ffn_norm.weight"), H);
        const auto qn = names.block(i, "self_attn.q_norm.weight", "attn_q_norm.weight");
        const auto kn = names.block(i, "self_attn.k_norm.weight", "attn_k_norm.weight");
        if (s.qkNorm || load.has(qn)) {
            b.qNorm = load.vector(qn, D);
            b.kNorm = load.vector(kn, D);
        }
        w.blocks.push_back(std::move(b));
    }
    w.finalNorm = load.vector(names.finalNorm(), H);
    if (names.gguf && load.has("rope_freqs.weight")) {
        const Vec f = load.vector("rope_freqs.weight", D / 2);
        w.ropeFreqFactors.assign(f.data(), f.data() + f.size());
    }
    if (load.has(names.lmHead()) && options.lazyLinears && !options.linearBackend)
        w.lmHead = std::make_shared<CheckpointLinear>(ck, names.lmHead(), int(s.vocabSize), int(H), std::nullopt);
    else if (load.has(names.lmHead()))
        w.lmHead = std::make_shared<DenseLinear>(load.matrix(names.lmHead(), s.vocabSize, H), std::nullopt);
    else if (s.tieWordEmbeddings || names.gguf)
        w.lmHead = std::make_shared<DenseLinear>(w.embedding, std::nullopt);
    else
        throw Error(ck.path().string() + ": missing tensor " + names.lmHead() + " and embeddings are not tied");
    if (options.linearBackend) {
        // The LM head too (the largest product of a forward pass over a 32k+ vocabulary): f16
        // on the backend, like every other linear.
        if (const auto* dense = dynamic_cast<const DenseLinear*>(w.lmHead.get()))
            w.lmHead = std::make_shared<BackendLinear>(
                options.linearBackend, std::make_shared<const compute::WeightMatrix>(toDenseHalf(dense->weight())),
                dense->bias());
    }
    spdlog::debug("loaded {} blocks from {}", w.blocks.size(), ck.path().string());
    return w;
}

} // namespace qs::runtime
