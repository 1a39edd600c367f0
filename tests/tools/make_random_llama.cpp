// Writes a random-initialized Llama checkpoint (config.json + model.safetensors in f16) of a
// real model's shape, for runtime benchmarks: linears ~ U(-a, a) with std 0.02, norms 1.
//   make_random_llama OUT_DIR {tiny|llama-3.2-1b|llama-2-7b} [--seed N] [--layers N]
// --layers keeps the shape's widths with N decoder blocks (a 7B-width model of 2 blocks is
// quick to write and load for per-block timings).
#include <nlohmann/json.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Shape {
    const char* name;
    std::int64_t vocab, hidden, intermediate, layers, heads, kvHeads, maxPos;
    double theta;
    bool tied;
    bool llama3Rope;
};

const Shape kShapes[] = {
    {"tiny", 512, 128, 256, 2, 4, 2, 512, 10000.0, false, false},
    {"llama-3.2-1b", 128256, 2048, 8192, 16, 32, 8, 131072, 500000.0, true, true},
    {"llama-2-7b", 32000, 4096, 11008, 32, 32, 32, 4096, 10000.0, false, false},
};

struct TensorSpec {
    std::string name;
    std::vector<std::int64_t> shape;
    bool norm;
};

std::uint64_t next(std::uint64_t& s)
{
    // splitmix64: fast and good enough for weights nobody trains.
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s OUT_DIR {tiny|llama-3.2-1b|llama-2-7b} [--seed N] [--layers N]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path out = argv[1];
    const Shape* shape = nullptr;
    for (const auto& s : kShapes)
        if (std::strcmp(s.name, argv[2]) == 0)
            shape = &s;
    if (!shape) {
        std::fprintf(stderr, "unknown shape '%s'\n", argv[2]);
        return 2;
    }
    std::uint64_t seed = 1;
    Shape s = *shape;
    for (int i = 3; i < argc; i += 2) {
        const bool hasValue = i + 1 < argc;
        if (hasValue && std::strcmp(argv[i], "--seed") == 0) {
            seed = std::stoull(argv[i + 1]);
        } else if (hasValue && std::strcmp(argv[i], "--layers") == 0) {
            s.layers = std::atoll(argv[i + 1]);
            if (s.layers < 1 || s.layers > 1000) {
                std::fprintf(stderr, "--layers must be 1..1000, got '%s'\n", argv[i + 1]);
                return 2;
            }
        } else {
            std::fprintf(stderr, "unknown or incomplete option '%s'\n", argv[i]);
            return 2;
        }
    }
    const std::int64_t hd = s.hidden / s.heads;

    std::vector<TensorSpec> tensors;
    tensors.push_back({"model.embed_tokens.weight", {s.vocab, s.hidden}, false});
    for (std::int64_t i = 0; i < s.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        tensors.push_back({p + "input_layernorm.weight", {s.hidden}, true});
        tensors.push_back({p + "self_attn.q_proj.weight", {s.heads * hd, s.hidden}, false});
        tensors.push_back({p + "self_attn.k_proj.weight", {s.kvHeads * hd, s.hidden}, false});
        tensors.push_back({p + "self_attn.v_proj.weight", {s.kvHeads * hd, s.hidden}, false});
        tensors.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.heads * hd}, false});
        tensors.push_back({p + "post_attention_layernorm.weight", {s.hidden}, true});
        tensors.push_back({p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, false});
        tensors.push_back({p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, false});
        tensors.push_back({p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, false});
    }
    tensors.push_back({"model.norm.weight", {s.hidden}, true});
    if (!s.tied)
        tensors.push_back({"lm_head.weight", {s.vocab, s.hidden}, false});

    nlohmann::json header = nlohmann::json::object();
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        std::uint64_t n = 1;
        for (auto d : t.shape)
            n *= std::uint64_t(d);
        header[t.name] = {{"dtype", "F16"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 2 * n}}};
        offset += 2 * n;
    }
    header["__metadata__"] = {{"format", "pt"}, {"generator", "quantscope make_random_llama"}};
    std::string h = header.dump();
    while ((h.size() + 8) % 8)
        h.push_back(' ');

    std::filesystem::create_directories(out);
    nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
                             {"vocab_size", s.vocab}, {"hidden_size", s.hidden},
                             {"intermediate_size", s.intermediate}, {"num_hidden_layers", s.layers},
                             {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kvHeads},
                             {"max_position_embeddings", s.maxPos}, {"rms_norm_eps", 1e-5},
                             {"rope_theta", s.theta}, {"tie_word_embeddings", s.tied},
                             {"torch_dtype", "float16"}, {"bos_token_id", 1}, {"eos_token_id", 2}};
    if (s.llama3Rope)
        config["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
    std::ofstream(out / "config.json") << config.dump(2) << "\n";

    const auto tmp = out / "model.safetensors.partial";
    std::ofstream f(tmp, std::ios::binary);
    const std::uint64_t hlen = h.size();
    f.write(reinterpret_cast<const char*>(&hlen), 8);
    f.write(h.data(), std::streamsize(h.size()));
    const float a = 0.02f * 1.7320508f; // U(-a, a) has std 0.02
    std::vector<std::uint16_t> buf;
    for (const auto& t : tensors) {
        std::uint64_t n = 1;
        for (auto d : t.shape)
            n *= std::uint64_t(d);
        buf.resize(std::size_t(n));
        for (auto& v : buf) {
            const float x = t.norm ? 1.0f : a * (2.0f * float(next(seed) >> 40) / float(1 << 24) - 1.0f);
            v = Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(x));
        }
        f.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(buf.size() * 2));
    }
    f.close();
    if (!f) {
        std::fprintf(stderr, "writing %s failed\n", tmp.c_str());
        std::filesystem::remove(tmp);
        return 1;
    }
    std::filesystem::rename(tmp, out / "model.safetensors");
    std::printf("wrote %s (%s, %zu tensors, %.2f GB)\n", out.c_str(), s.name, tensors.size(),
                double(offset) / 1e9);
    return 0;
}
