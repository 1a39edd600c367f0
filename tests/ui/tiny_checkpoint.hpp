#pragma once
// Writes a tiny HF-layout model folder (config.json + model.safetensors with random F32
// weights) for GUI tests: a Llama with `layers` blocks, or an unknown architecture.
#include "common/test_support.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace qs::test {

struct TinyModelShape {
    int layers = 2;
    int hidden = 16;
    int heads = 4;
    int kvHeads = 2;
    int intermediate = 32;
    int vocab = 64;
};

// (name, shape) of every tensor of a Llama-style model, in HF naming.
inline std::vector<std::pair<std::string, std::vector<std::int64_t>>> tinyLlamaTensors(const TinyModelShape& s)
{
    const std::int64_t h = s.hidden, kv = s.hidden / s.heads * s.kvHeads, f = s.intermediate;
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> t{{"model.embed_tokens.weight", {s.vocab, h}}};
    for (int i = 0; i < s.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "self_attn.q_proj.weight", {h, h}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.o_proj.weight", {h, h}});
        t.push_back({p + "mlp.gate_proj.weight", {f, h}});
        t.push_back({p + "mlp.up_proj.weight", {f, h}});
        t.push_back({p + "mlp.down_proj.weight", {h, f}});
        t.push_back({p + "input_layernorm.weight", {h}});
        t.push_back({p + "post_attention_layernorm.weight", {h}});
    }
    t.push_back({"model.norm.weight", {h}});
    t.push_back({"lm_head.weight", {s.vocab, h}});
    return t;
}

// A safetensors file of F32 tensors filled with fresh normal random values.
inline void writeSafetensorsF32(const std::filesystem::path& file,
                                const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& tensors)
{
    nlohmann::json header = nlohmann::json::object();
    std::uint64_t offset = 0;
    for (const auto& [name, shape] : tensors) {
        std::uint64_t n = 1;
        for (auto d : shape)
            n *= static_cast<std::uint64_t>(d);
        header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + n * 4}}};
        offset += n * 4;
    }
    std::string headerText = header.dump();
    while (headerText.size() % 8 != 0)
        headerText.push_back(' ');
    std::string bytes(8, '\0');
    const std::uint64_t len = headerText.size();
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<char>((len >> (8 * i)) & 0xff);
    bytes += headerText;
    std::mt19937 rng(std::random_device{}());
    std::normal_distribution<float> dist(0.0f, 0.02f);
    const std::size_t dataStart = bytes.size();
    bytes.resize(dataStart + offset);
    for (std::uint64_t i = 0; i < offset / 4; ++i) {
        const float v = dist(rng);
        std::memcpy(bytes.data() + dataStart + i * 4, &v, 4);
    }
    writeFile(file, bytes);
}

inline void writeTinyLlama(const std::filesystem::path& folder, const TinyModelShape& s = {})
{
    const nlohmann::json config{{"architectures", {"LlamaForCausalLM"}},
                                {"model_type", "llama"},
                                {"vocab_size", s.vocab},
                                {"hidden_size", s.hidden},
                                {"intermediate_size", s.intermediate},
                                {"num_hidden_layers", s.layers},
                                {"num_attention_heads", s.heads},
                                {"num_key_value_heads", s.kvHeads},
                                {"max_position_embeddings", 256},
                                {"rms_norm_eps", 1e-5},
                                {"torch_dtype", "float32"}};
    writeFile(folder / "config.json", config.dump(2));
    writeSafetensorsF32(folder / "model.safetensors", tinyLlamaTensors(s));
}

// An architecture QuantScope does not know: opens for inspection with "not supported yet".
inline void writeTinyUnknownArch(const std::filesystem::path& folder)
{
    const nlohmann::json config{{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"n_embd", 8}};
    writeFile(folder / "config.json", config.dump(2));
    writeSafetensorsF32(folder / "model.safetensors",
                        {{"transformer.wte.weight", {32, 8}}, {"transformer.h.0.attn.c_attn.weight", {8, 24}}});
}

} // namespace qs::test
