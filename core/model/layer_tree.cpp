#include "core/model/layer_tree.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <string_view>

namespace qs::model {

namespace {

enum class Section { Embeddings, Block, FinalNorm, LmHead, Other };
enum class BlockPart { Attention, Mlp, Norms, Other };

// Where one tensor goes and how it is shown there.
struct Placement {
    Section section = Section::Other;
    int block = -1;
    BlockPart part = BlockPart::Other;
    std::string label;
    std::string role;
    std::string param;
    int rank = 100; // canonical order inside its group (q,k,v,o; gate,up,down; ...)
};

struct ModuleRule {
    std::string_view module;
    BlockPart part;
    std::string_view role;
    int rank;
};

// HF module names (last component before the parameter) inside a decoder block.
constexpr std::array kHfBlockRules{
    ModuleRule{"q_proj", BlockPart::Attention, "q", 0},
    ModuleRule{"k_proj", BlockPart::Attention, "k", 1},
    ModuleRule{"v_proj", BlockPart::Attention, "v", 2},
    ModuleRule{"o_proj", BlockPart::Attention, "o", 3},
    ModuleRule{"q_norm", BlockPart::Attention, "norm", 4},
    ModuleRule{"k_norm", BlockPart::Attention, "norm", 5},
    ModuleRule{"gate_proj", BlockPart::Mlp, "gate", 0},
    ModuleRule{"up_proj", BlockPart::Mlp, "up", 1},
    ModuleRule{"down_proj", BlockPart::Mlp, "down", 2},
    ModuleRule{"input_layernorm", BlockPart::Norms, "norm", 0},
    ModuleRule{"post_attention_layernorm", BlockPart::Norms, "norm", 1},
    ModuleRule{"pre_feedforward_layernorm", BlockPart::Norms, "norm", 2},
    ModuleRule{"post_feedforward_layernorm", BlockPart::Norms, "norm", 3},
};

// GGUF (llama.cpp) names inside "blk.N.".
constexpr std::array kGgufBlockRules{
    ModuleRule{"attn_q", BlockPart::Attention, "q", 0},
    ModuleRule{"attn_k", BlockPart::Attention, "k", 1},
    ModuleRule{"attn_v", BlockPart::Attention, "v", 2},
    ModuleRule{"attn_qkv", BlockPart::Attention, "qkv", 2},
    ModuleRule{"attn_output", BlockPart::Attention, "o", 3},
    ModuleRule{"attn_q_norm", BlockPart::Attention, "norm", 4},
    ModuleRule{"attn_k_norm", BlockPart::Attention, "norm", 5},
    ModuleRule{"ffn_gate", BlockPart::Mlp, "gate", 0},
    ModuleRule{"ffn_up", BlockPart::Mlp, "up", 1},
    ModuleRule{"ffn_down", BlockPart::Mlp, "down", 2},
    ModuleRule{"attn_norm", BlockPart::Norms, "norm", 0},
    ModuleRule{"ffn_norm", BlockPart::Norms, "norm", 1},
    ModuleRule{"post_attention_norm", BlockPart::Norms, "norm", 2},
    ModuleRule{"post_ffw_norm", BlockPart::Norms, "norm", 3},
};

// Parameter suffixes split off the module name: plain weights and biases, and the tensors
// GPTQ/AWQ checkpoints store per linear, so quantized checkpoints group the same way.
constexpr std::array<std::string_view, 6> kParams{"weight", "bias", "qweight", "qzeros", "scales", "g_idx"};

int paramRank(std::string_view param)
{
    for (std::size_t i = 0; i < kParams.size(); ++i)
        if (kParams[i] == param)
            return static_cast<int>(i);
    return static_cast<int>(kParams.size());
}

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// "model.layers.12.self_attn.q_proj" -> stem without the parameter, and the parameter.
std::pair<std::string_view, std::string_view> splitParam(std::string_view name)
{
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos)
        return {name, {}};
    const auto last = name.substr(dot + 1);
    if (paramRank(last) < static_cast<int>(kParams.size()))
        return {name.substr(0, dot), last};
    return {name, {}};
}

std::string_view lastComponent(std::string_view s)
{
    const auto dot = s.rfind('.');
    return dot == std::string_view::npos ? s : s.substr(dot + 1);
}

std::string labelFor(std::string_view module, std::string_view param)
{
    std::string label(module);
    if (!param.empty() && param != "weight")
        label.append(".").append(param);
    return label;
}

// Parses the decimal block index that follows a prefix ("blk." / "model.layers.") and
// returns the rest after the next dot. Names are untrusted: anything odd is not a block.
bool parseBlock(std::string_view name, std::string_view prefix, int& block, std::string_view& rest)
{
    if (!startsWith(name, prefix))
        return false;
    const auto tail = name.substr(prefix.size());
    const auto dot = tail.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 9)
        return false;
    const auto digits = tail.substr(0, dot);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), block);
    if (ec != std::errc{} || ptr != digits.data() + digits.size())
        return false;
    rest = tail.substr(dot + 1);
    return !rest.empty();
}

template <std::size_t N>
const ModuleRule* findRule(const std::array<ModuleRule, N>& rules, std::string_view module)
{
    for (const auto& r : rules)
        if (r.module == module)
            return &r;
    return nullptr;
}

Placement placeInBlock(int block, std::string_view rest, bool gguf)
{
    Placement p;
    p.section = Section::Block;
    p.block = block;
    const auto [stem, param] = splitParam(rest);
    p.param = std::string(param);
    const auto module = lastComponent(stem);
    const ModuleRule* rule = gguf ? findRule(kGgufBlockRules, module) : findRule(kHfBlockRules, module);
    if (rule) {
        p.part = rule->part;
        p.role = std::string(rule->role);
        p.rank = rule->rank;
        p.label = labelFor(module, param);
    } else if (stem.find('.') == std::string_view::npos && module.size() > 4
               && module.substr(module.size() - 4) == "norm") {
        // Other architectures' block-level norms ("ln_1", "...layernorm", "...norm").
        p.part = BlockPart::Norms;
        p.role = "norm";
        p.rank = 50;
        p.label = labelFor(module, param);
    } else {
        p.part = BlockPart::Other;
        p.label = std::string(rest);
    }
    return p;
}

Placement place(const std::string& name)
{
    int block = -1;
    std::string_view rest;
    if (parseBlock(name, "model.layers.", block, rest) || parseBlock(name, "layers.", block, rest))
        return placeInBlock(block, rest, false);
    if (parseBlock(name, "blk.", block, rest))
        return placeInBlock(block, rest, true);

    Placement p;
    // Plain variables, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    const auto split = splitParam(name);
    const auto stem = split.first;
    const auto param = split.second;
    const auto topLevel = [&](Section s, std::string_view role, std::string_view module) {
        p.section = s;
        p.role = std::string(role);
        p.param = std::string(param);
        p.label = labelFor(module, param);
        p.rank = 0;
        return p;
    };
    if (stem == "model.embed_tokens" || stem == "embed_tokens")
        return topLevel(Section::Embeddings, "embed", "embed_tokens");
    if (stem == "token_embd")
        return topLevel(Section::Embeddings, "embed", "token_embd");
    if (stem == "model.norm" || stem == "norm")
        return topLevel(Section::FinalNorm, "norm", "norm");
    if (stem == "output_norm")
        return topLevel(Section::FinalNorm, "norm", "output_norm");
    if (stem == "lm_head")
        return topLevel(Section::LmHead, "lm_head", "lm_head");
    if (stem == "output")
        return topLevel(Section::LmHead, "lm_head", "output");

    p.section = Section::Other;
    p.param = std::string(param);
    p.label = name;
    return p;
}

struct Placed {
    Placement where;
    const io::TensorInfo* tensor;
};

LayerNode makeTensorNode(const Placed& t)
{
    LayerNode n;
    n.kind = LayerNode::Kind::Tensor;
    n.label = t.where.label;
    n.role = t.where.role;
    n.param = t.where.param;
    n.tensor = t.tensor;
    n.block = t.where.block;
    return n;
}

// A group of tensors in canonical order; empty vectors give no node.
void appendGroup(std::vector<LayerNode>& out, std::string label, LayerNode::Kind kind, int block,
                 std::vector<Placed> items)
{
    if (items.empty())
        return;
    std::stable_sort(items.begin(), items.end(), [](const Placed& a, const Placed& b) {
        if (a.where.rank != b.where.rank)
            return a.where.rank < b.where.rank;
        const int pa = paramRank(a.where.param), pb = paramRank(b.where.param);
        if (pa != pb)
            return pa < pb;
        return a.tensor->name < b.tensor->name;
    });
    LayerNode g;
    g.kind = kind;
    g.label = std::move(label);
    g.block = block;
    g.children.reserve(items.size());
    for (const auto& t : items)
        g.children.push_back(makeTensorNode(t));
    out.push_back(std::move(g));
}

struct BlockParts {
    std::vector<Placed> attention, mlp, norms, other;
};

} // namespace

LayerNode buildLayerTree(const io::Checkpoint& checkpoint)
{
    std::vector<Placed> embeddings, finalNorm, lmHead, other;
    std::map<int, BlockParts> blocks; // ordered numerically: Block 2 before Block 10

    for (const auto& t : checkpoint.tensors()) {
        Placed p{place(t.name), &t};
        switch (p.where.section) {
        case Section::Embeddings: embeddings.push_back(std::move(p)); break;
        case Section::FinalNorm: finalNorm.push_back(std::move(p)); break;
        case Section::LmHead: lmHead.push_back(std::move(p)); break;
        case Section::Other: other.push_back(std::move(p)); break;
        case Section::Block: {
            auto& b = blocks[p.where.block];
            switch (p.where.part) {
            case BlockPart::Attention: b.attention.push_back(std::move(p)); break;
            case BlockPart::Mlp: b.mlp.push_back(std::move(p)); break;
            case BlockPart::Norms: b.norms.push_back(std::move(p)); break;
            case BlockPart::Other: b.other.push_back(std::move(p)); break;
            }
            break;
        }
        }
    }

    LayerNode root;
    root.kind = LayerNode::Kind::Root;
    root.label = checkpoint.path().filename().string();
    using K = LayerNode::Kind;
    appendGroup(root.children, "Embeddings", K::Group, -1, std::move(embeddings));
    for (auto& [index, parts] : blocks) {
        LayerNode b;
        b.kind = K::Block;
        b.label = "Block " + std::to_string(index);
        b.block = index;
        appendGroup(b.children, "Attention", K::Group, index, std::move(parts.attention));
        appendGroup(b.children, "MLP", K::Group, index, std::move(parts.mlp));
        appendGroup(b.children, "Norms", K::Group, index, std::move(parts.norms));
        appendGroup(b.children, "Other", K::Group, index, std::move(parts.other));
        root.children.push_back(std::move(b));
    }
    appendGroup(root.children, "Final norm", K::Group, -1, std::move(finalNorm));
    appendGroup(root.children, "LM head", K::Group, -1, std::move(lmHead));
    appendGroup(root.children, "Other", K::Group, -1, std::move(other));
    return root;
}

} // namespace qs::model
