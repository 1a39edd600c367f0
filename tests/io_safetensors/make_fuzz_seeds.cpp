// make_safetensors_fuzz_seeds OUT_DIR: a small seed corpus for fuzz_safetensors: valid
// files in every dtype, scalar and empty tensors, a shard index and a config.json.
#include "safetensors_writer.hpp"

#include <cstdio>
#include <random>

using qs::test::StTensor;

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path out = argv[1];
    std::mt19937 rng(1);
    const auto random = [&](std::size_t n) {
        std::string s(n, '\0');
        for (auto& c : s)
            c = static_cast<char>(rng() & 0xff);
        return s;
    };
    qs::test::writeBytes(out / "all_dtypes.safetensors",
                         qs::test::stBuild({{"a", "F32", {2, 3}, random(24)}, {"b", "F16", {4}, random(8)},
                                            {"c", "BF16", {2, 2}, random(8)}, {"d", "F64", {1}, random(8)},
                                            {"e", "I8", {3}, random(3)}, {"f", "U8", {2}, random(2)},
                                            {"g", "I16", {2}, random(4)}, {"h", "I32", {1}, random(4)},
                                            {"i", "I64", {1}, random(8)}, {"j", "BOOL", {2}, std::string("\0\1", 2)},
                                            {"k", "F8_E4M3", {4}, random(4)}, {"l", "F8_E5M2", {4}, random(4)}},
                                           {{"format", "pt"}}));
    qs::test::writeBytes(out / "scalar_empty.safetensors",
                         qs::test::stBuild({{"s", "F32", {}, random(4)}, {"z", "F32", {0, 3}, ""}}));
    qs::test::writeBytes(out / "llama_like.safetensors",
                         qs::test::stBuild({{"model.layers.0.self_attn.q_proj.weight", "BF16", {4, 4}, random(32)},
                                            {"model.norm.weight", "F32", {4}, random(16)}}));
    qs::test::writeBytes(out / "index.json", R"({"metadata": {"total_size": 40}, "weight_map": )"
                                             R"({"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})");
    qs::test::writeBytes(out / "config.json",
                         R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, )"
                         R"("num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, )"
                         R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, )"
                         R"("original_max_position_embeddings": 8192}, "eos_token_id": [1, 2], "torch_dtype": "bfloat16"})");
    std::printf("wrote 5 seeds to %s\n", out.c_str());
    return 0;
}
