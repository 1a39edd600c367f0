#pragma once
// Groups a checkpoint's tensors into what a user browses: embeddings, decoder blocks (each
// with attention and MLP linears and its norms), the final norm and the LM head. Knows HF
// names ("model.layers.3.self_attn.q_proj.weight") and GGUF names ("blk.3.attn_q.weight");
// tensors it cannot place go under "Other" (inside their block when they name one).
#include "core/io/checkpoint.hpp"

#include <string>
#include <vector>

namespace qs::model {

struct LayerNode {
    enum class Kind { Root, Group, Block, Tensor };
    Kind kind = Kind::Group;
    std::string label;        // "Block 3", "Attention", "q_proj", "Embeddings", ...
    std::string role;         // for tensors: "q","k","v","o","qkv","gate","up","down","norm","embed","lm_head",""
    std::string param;        // for tensors: the last name component, "weight", "bias", ...
    const io::TensorInfo* tensor = nullptr; // set for Kind::Tensor; points into the checkpoint
    int block = -1;           // decoder block index, -1 outside blocks
    std::vector<LayerNode> children;
};

// Top-level order: "Embeddings", "Block 0".."Block N-1" (numeric), "Final norm", "LM head",
// "Other"; empty groups are left out. A block holds "Attention", "MLP", "Norms" and "Other".
// The tree points into checkpoint.tensors(): it must not outlive the checkpoint.
LayerNode buildLayerTree(const io::Checkpoint& checkpoint);

} // namespace qs::model
