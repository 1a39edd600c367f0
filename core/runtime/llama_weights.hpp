#pragma once
// The Llama-family weights a forward pass needs, loaded from a checkpoint by their HF or GGUF
// names. Linears are shared_ptr<LinearOp> so that a quantized one replaces one slot only.
#include "core/model/model.hpp"
#include "core/runtime/linear.hpp"

namespace qs::compute {
class Backend;
}

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qs::runtime {

enum class LinearRole { Q, K, V, O, Gate, Up, Down };
constexpr std::array<LinearRole, 7> kAllLinearRoles = {LinearRole::Q, LinearRole::K, LinearRole::V, LinearRole::O,
                                                       LinearRole::Gate, LinearRole::Up, LinearRole::Down};
const char* linearRoleName(LinearRole r); // "q_proj", ..., "down_proj"

struct BlockWeights {
    std::array<std::shared_ptr<LinearOp>, 7> linears; // indexed by LinearRole
    Vec inputNorm, postAttentionNorm;
    std::optional<Vec> qNorm, kNorm;                  // Qwen3, over head_dim

    std::shared_ptr<LinearOp>& linear(LinearRole r) { return linears[std::size_t(r)]; }
    const LinearOp& linear(LinearRole r) const { return *linears[std::size_t(r)]; }
};

struct LlamaWeights {
    model::ArchSpec spec;
    bool ropeInterleaved = false; // GGUF llama: q/k rows were permuted by llama.cpp's converter
    std::vector<float> ropeFreqFactors; // GGUF rope_freqs.weight (Llama 3.1 scaling as llama.cpp
                                        // stores it), headDim/2 divisors; empty: none
    Mat embedding;                // [vocab][hidden]
    std::vector<BlockWeights> blocks;
    Vec finalNorm;
    std::shared_ptr<LinearOp> lmHead; // shares the embedding when tied
};

struct LoadOptions {
    // When set, every linear (the LM head too) is stored as f16 on this backend as it is read
    // (a 7B model then needs 13.5 GB, not 27 GB in f32) and runs its products there.
    std::shared_ptr<compute::Backend> linearBackend;
    // When set (and linearBackend is not), every linear stays in the checkpoint and is read per
    // product (checkpoint_linear.hpp): calibration and quantization of models larger than memory
    // in f32. The model::Model must outlive the weights.
    bool lazyLinears = false;
};

// Reads every weight as f32. Throws qs::Error naming the missing tensor or the shape that
// disagrees with the spec; an unsupported architecture is refused with its reason.
LlamaWeights loadLlamaWeights(const model::Model& model, const LoadOptions& options = {});

} // namespace qs::runtime
