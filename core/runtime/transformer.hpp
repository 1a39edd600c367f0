#pragma once
// The Llama-family forward pass: embeddings, RMSNorm, RoPE, GQA attention with a causal mask
// and KV cache, SwiGLU MLP, q/k norm (Qwen3), qkv bias (Qwen2), tied embeddings. f32.
// Exposed block by block so calibration can stream all samples through one block at a time.
#include "core/runtime/llama_weights.hpp"
#include "core/runtime/rope.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace qs::runtime {

struct KvCache {
    std::vector<Mat> keys, values; // per block: [positions][kvHeads*headDim]
    int length = 0;                // positions cached
};

struct ForwardHooks {
    // The input of every linear as it is computed (x of y = x W^T), [T][in].
    std::function<void(int block, LinearRole role, const Mat& input)> onLinearInput;
    // The hidden state after each decoder block, [T][hidden].
    std::function<void(int block, const Mat& hidden)> onBlockOutput;
};

class Transformer {
public:
    explicit Transformer(LlamaWeights weights);

    const model::ArchSpec& spec() const { return w_.spec; }
    LlamaWeights& weights() { return w_; }
    const LlamaWeights& weights() const { return w_; }

    // Logits [T][vocab] for tokens at positions cache->length.. (0.. without a cache); the
    // cache, when given, is extended by the tokens.
    Mat forward(std::span<const std::int32_t> tokens, KvCache* cache = nullptr, const ForwardHooks* hooks = nullptr) const;

    Mat embed(std::span<const std::int32_t> tokens) const;
    // One decoder block on hidden states [T][hidden] at positions startPos..; returns its output.
    Mat block(int index, const Mat& hidden, int startPos, KvCache* cache = nullptr, const ForwardHooks* hooks = nullptr) const;
    Mat logits(const Mat& hidden) const; // final norm + LM head

    static void rmsNorm(Mat& x, const Vec& weight, double eps);

    // The two halves of a block on already-normalized input x (what AWQ and SmoothQuant judge
    // a scaling by): self-attention through o_proj, and the SwiGLU MLP through down_proj.
    Mat attention(int index, const Mat& x, int startPos = 0, KvCache* cache = nullptr,
                  const ForwardHooks* hooks = nullptr) const;
    Mat mlp(int index, const Mat& x, const ForwardHooks* hooks = nullptr) const;

    // Independent sequences stacked into one matrix (calibration's samples): rows
    // [s*seqLen, (s+1)*seqLen) are sample s at positions 0..seqLen-1, attending to themselves
    // only. The same result as one call per sample, with every linear run once on all rows.
    Mat blockStacked(int index, const Mat& hidden, int seqLen, const ForwardHooks* hooks = nullptr) const;
    Mat attentionStacked(int index, const Mat& x, int seqLen, const ForwardHooks* hooks = nullptr) const;

private:
    static void checkStacked(const Mat& x, int seqLen);
    Mat attend(int index, const Mat& x, int startPos, KvCache* cache, const ForwardHooks* hooks, int seqLen) const;
    Mat runBlock(int index, const Mat& hidden, int startPos, KvCache* cache, const ForwardHooks* hooks, int seqLen) const;

    LlamaWeights w_;
    Rope rope_;
};

} // namespace qs::runtime
