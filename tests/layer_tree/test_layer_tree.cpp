// buildLayerTree over fake checkpoints: HF and GGUF names, unknown names, numeric block order.
#include "core/io/checkpoint.hpp"
#include "core/model/layer_tree.hpp"
#include "core/util/error.hpp"

#include <QtTest/QtTest>

#include <algorithm>
#include <random>

using qs::io::TensorInfo;
using qs::model::LayerNode;

namespace {

// A checkpoint that is only a list of tensor infos; reading data is not needed here.
class FakeCheckpoint : public qs::io::Checkpoint {
public:
    explicit FakeCheckpoint(std::vector<TensorInfo> t) : tensors_(std::move(t)) {}
    std::string format() const override { return "fake"; }
    const std::filesystem::path& path() const override { return path_; }
    const std::vector<TensorInfo>& tensors() const override { return tensors_; }
    qs::Tensor readF32(const std::string& name) const override { throw qs::io::NotFoundError(name); }

private:
    std::filesystem::path path_ = "/models/fake";
    std::vector<TensorInfo> tensors_;
};

TensorInfo info(std::string name, qs::Shape shape = {8, 8})
{
    TensorInfo t;
    t.name = std::move(name);
    t.shape = std::move(shape);
    t.dtype = "BF16";
    t.nbytes = static_cast<std::uint64_t>(qs::numelOf(t.shape)) * 2;
    t.file = "model.safetensors";
    return t;
}

// The tensors of a Qwen2-style HF checkpoint with `blocks` blocks, shuffled so that the tree
// must impose its own order rather than inherit the file's.
std::vector<TensorInfo> hfTensors(int blocks, bool qkvBias, bool qkNorm)
{
    std::vector<TensorInfo> v{info("model.embed_tokens.weight", {100, 8}), info("model.norm.weight", {8}),
                              info("lm_head.weight", {100, 8})};
    for (int i = 0; i < blocks; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"})
            v.push_back(info(p + "self_attn." + m + ".weight"));
        if (qkvBias)
            for (const char* m : {"q_proj", "k_proj", "v_proj"})
                v.push_back(info(p + "self_attn." + m + ".bias", {8}));
        if (qkNorm)
            for (const char* m : {"q_norm", "k_norm"})
                v.push_back(info(p + "self_attn." + m + ".weight", {4}));
        for (const char* m : {"gate_proj", "up_proj", "down_proj"})
            v.push_back(info(p + "mlp." + m + ".weight"));
        v.push_back(info(p + "input_layernorm.weight", {8}));
        v.push_back(info(p + "post_attention_layernorm.weight", {8}));
    }
    std::mt19937 rng(std::random_device{}());
    std::shuffle(v.begin(), v.end(), rng);
    return v;
}

std::vector<std::string> labels(const LayerNode& n)
{
    std::vector<std::string> out;
    for (const auto& c : n.children)
        out.push_back(c.label);
    return out;
}

const LayerNode* child(const LayerNode& n, const std::string& label)
{
    for (const auto& c : n.children)
        if (c.label == label)
            return &c;
    return nullptr;
}

std::size_t countTensors(const LayerNode& n)
{
    std::size_t k = n.kind == LayerNode::Kind::Tensor ? 1 : 0;
    for (const auto& c : n.children)
        k += countTensors(c);
    return k;
}

using Labels = std::vector<std::string>;

} // namespace

class TestLayerTree : public QObject {
    Q_OBJECT
private slots:
    void hfQwen3Layout()
    {
        try {
            FakeCheckpoint ck(hfTensors(3, true, true));
            const LayerNode root = qs::model::buildLayerTree(ck);
            QCOMPARE(root.kind, LayerNode::Kind::Root);
            QVERIFY(labels(root) == (Labels{"Embeddings", "Block 0", "Block 1", "Block 2", "Final norm", "LM head"}));
            QCOMPARE(countTensors(root), ck.tensors().size());

            const LayerNode* b1 = child(root, "Block 1");
            QVERIFY(b1);
            QCOMPARE(b1->kind, LayerNode::Kind::Block);
            QCOMPARE(b1->block, 1);
            QVERIFY(labels(*b1) == (Labels{"Attention", "MLP", "Norms"}));

            const LayerNode& attn = *child(*b1, "Attention");
            QVERIFY(labels(attn) == (Labels{"q_proj", "q_proj.bias", "k_proj", "k_proj.bias", "v_proj",
                                            "v_proj.bias", "o_proj", "q_norm", "k_norm"}));
            QCOMPARE(attn.children[0].role, std::string("q"));
            QCOMPARE(attn.children[0].param, std::string("weight"));
            QCOMPARE(attn.children[1].param, std::string("bias"));
            QCOMPARE(attn.children[6].role, std::string("o"));
            QCOMPARE(attn.children[7].role, std::string("norm"));
            QVERIFY(attn.children[0].tensor);
            QCOMPARE(attn.children[0].tensor->name, std::string("model.layers.1.self_attn.q_proj.weight"));
            QCOMPARE(attn.children[0].block, 1);

            const LayerNode& mlp = *child(*b1, "MLP");
            QVERIFY(labels(mlp) == (Labels{"gate_proj", "up_proj", "down_proj"}));
            QCOMPARE(mlp.children[2].role, std::string("down"));
            QVERIFY(labels(*child(*b1, "Norms")) == (Labels{"input_layernorm", "post_attention_layernorm"}));

            const LayerNode& emb = *child(root, "Embeddings");
            QCOMPARE(emb.children.size(), std::size_t{1});
            QCOMPARE(emb.children[0].role, std::string("embed"));
            QCOMPARE(emb.children[0].tensor->name, std::string("model.embed_tokens.weight"));
            QCOMPARE(child(root, "Final norm")->children[0].tensor->name, std::string("model.norm.weight"));
            QCOMPARE(child(root, "LM head")->children[0].role, std::string("lm_head"));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void blocksSortNumerically()
    {
        FakeCheckpoint ck(hfTensors(12, false, false));
        const LayerNode root = qs::model::buildLayerTree(ck);
        std::vector<int> order;
        for (const auto& c : root.children)
            if (c.kind == LayerNode::Kind::Block)
                order.push_back(c.block);
        QCOMPARE(order.size(), std::size_t{12});
        QVERIFY(std::is_sorted(order.begin(), order.end()));
        QCOMPARE(root.children[3].label, std::string("Block 2")); // after Embeddings, 0, 1
        QCOMPARE(root.children[11].label, std::string("Block 10"));
    }

    void ggufNames()
    {
        std::vector<TensorInfo> v{info("token_embd.weight"), info("output_norm.weight", {8}), info("output.weight")};
        for (int i : {10, 2}) {
            const std::string p = "blk." + std::to_string(i) + ".";
            for (const char* m : {"attn_v", "attn_k", "attn_q", "attn_output", "attn_q_norm", "ffn_down", "ffn_up",
                                  "ffn_gate", "ffn_norm", "attn_norm"})
                v.push_back(info(p + m + ".weight"));
            v.push_back(info(p + "attn_q.bias", {8}));
        }
        FakeCheckpoint ck(std::move(v));
        const LayerNode root = qs::model::buildLayerTree(ck);
        QVERIFY(labels(root) == (Labels{"Embeddings", "Block 2", "Block 10", "Final norm", "LM head"}));
        const LayerNode& b10 = *child(root, "Block 10");
        QVERIFY(labels(*child(b10, "Attention"))
                == (Labels{"attn_q", "attn_q.bias", "attn_k", "attn_v", "attn_output", "attn_q_norm"}));
        QVERIFY(labels(*child(b10, "MLP")) == (Labels{"ffn_gate", "ffn_up", "ffn_down"}));
        QVERIFY(labels(*child(b10, "Norms")) == (Labels{"attn_norm", "ffn_norm"}));
        QCOMPARE(child(b10, "MLP")->children[0].role, std::string("gate"));
        QCOMPARE(child(b10, "MLP")->children[0].tensor->name, std::string("blk.10.ffn_gate.weight"));
        QCOMPARE(child(root, "Embeddings")->children[0].label, std::string("token_embd"));
        QCOMPARE(child(root, "Final norm")->children[0].label, std::string("output_norm"));
        QCOMPARE(child(root, "LM head")->children[0].label, std::string("output"));
        QCOMPARE(countTensors(root), ck.tensors().size());
    }

    void unknownNamesGoToOther()
    {
        FakeCheckpoint ck({info("model.layers.3.self_attn.rotary_emb.inv_freq", {4}),
                           info("model.layers.3.mlp.up_proj.weight"), info("vision_tower.patch_embed.weight"),
                           info("blk.x.attn_q.weight"), info("blk..attn_q.weight"),
                           info("model.layers.99999999999.mlp.up_proj.weight"), info("blk.4"), info("")});
        const LayerNode root = qs::model::buildLayerTree(ck);
        QVERIFY(labels(root) == (Labels{"Block 3", "Other"}));
        const LayerNode& b3 = root.children[0];
        QVERIFY(labels(b3) == (Labels{"MLP", "Other"}));
        QCOMPARE(child(b3, "Other")->children[0].label, std::string("self_attn.rotary_emb.inv_freq"));
        QCOMPARE(child(b3, "Other")->children[0].role, std::string());
        const LayerNode& other = root.children[1];
        QCOMPARE(other.children.size(), std::size_t{6});
        QCOMPARE(countTensors(root), ck.tensors().size());
        for (const auto& c : other.children) {
            QCOMPARE(c.block, -1);
            QCOMPARE(c.label, c.tensor->name); // unknown tensors keep their full name
        }
    }

    void emptyCheckpoint()
    {
        FakeCheckpoint ck({});
        const LayerNode root = qs::model::buildLayerTree(ck);
        QCOMPARE(root.kind, LayerNode::Kind::Root);
        QVERIFY(root.children.empty());
        QCOMPARE(root.label, std::string("fake"));
    }
};

QTEST_APPLESS_MAIN(TestLayerTree)
#include "test_layer_tree.moc"
