#include "synthetic_checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace qs::test {

namespace fs = std::filesystem;

namespace {

std::uint64_t bf16Bytes(const std::vector<std::int64_t>& shape)
{
    std::uint64_t n = 2;
    for (auto d : shape)
        n *= static_cast<std::uint64_t>(d);
    return n;
}

std::string shardName(int i, int count)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, count);
    return buf;
}

[[noreturn]] void ioFailure(const fs::path& p, const char* what)
{
    throw std::runtime_error(p.string() + ": " + what + ": " + std::strerror(errno));
}

// Header bytes, then a hole up to the full size: no tensor data is ever written.
void writeSparseShard(const fs::path& file, const std::vector<const SyntheticTensor*>& tensors)
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::uint64_t offset = 0;
    for (const auto* t : tensors) {
        const auto n = bf16Bytes(t->shape);
        header[t->name] = {{"dtype", "BF16"}, {"shape", t->shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string bytes(8, '\0');
    const std::uint64_t len = text.size();
    std::memcpy(bytes.data(), &len, 8); // little-endian host
    bytes += text;

    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        ioFailure(file, "open");
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                    ::ftruncate(fd, static_cast<off_t>(bytes.size() + offset)) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
        errno = err;
        ioFailure(file, "write");
    }
}

} // namespace

std::vector<SyntheticTensor> syntheticLlamaTensors(const SyntheticLlama& s)
{
    const std::int64_t headDim = s.hidden / s.heads;
    const std::int64_t kvDim = s.kvHeads * headDim;
    std::vector<SyntheticTensor> t;
    t.push_back({"model.embed_tokens.weight", {s.vocab, s.hidden}, {}});
    for (std::int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t.push_back({p + "input_layernorm.weight", {s.hidden}, {}});
        t.push_back({p + "self_attn.q_proj.weight", {s.hidden, s.hidden}, {}});
        t.push_back({p + "self_attn.k_proj.weight", {kvDim, s.hidden}, {}});
        t.push_back({p + "self_attn.v_proj.weight", {kvDim, s.hidden}, {}});
        t.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.hidden}, {}});
        t.push_back({p + "post_attention_layernorm.weight", {s.hidden}, {}});
        t.push_back({p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, {}});
        t.push_back({p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, {}});
        t.push_back({p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, {}});
    }
    t.push_back({"model.norm.weight", {s.hidden}, {}});
    t.push_back({"lm_head.weight", {s.vocab, s.hidden}, {}});

    // Fill shards in order up to an equal share of the bytes, as HF's max_shard_size does.
    std::uint64_t total = 0;
    for (const auto& x : t)
        total += bf16Bytes(x.shape);
    const std::uint64_t share = (total + s.shards - 1) / s.shards;
    int shard = 0;
    std::uint64_t inShard = 0;
    for (auto& x : t) {
        const auto n = bf16Bytes(x.shape);
        if (inShard > 0 && inShard + n > share && shard + 1 < s.shards) {
            ++shard;
            inShard = 0;
        }
        inShard += n;
        x.shard = shardName(shard, s.shards);
    }
    return t;
}

std::vector<SyntheticTensor> writeSyntheticLlamaCheckpoint(const fs::path& folder, const SyntheticLlama& s)
{
    fs::create_directories(folder);
    const auto tensors = syntheticLlamaTensors(s);

    nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
    std::uint64_t total = 0;
    for (int i = 0; i < s.shards; ++i) {
        std::vector<const SyntheticTensor*> mine;
        for (const auto& t : tensors)
            if (t.shard == shardName(i, s.shards)) {
                mine.push_back(&t);
                weightMap[t.name] = t.shard;
                total += bf16Bytes(t.shape);
            }
        writeSparseShard(folder / shardName(i, s.shards), mine);
    }
    const nlohmann::ordered_json index{{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
    const nlohmann::ordered_json config{
        {"architectures", {"LlamaForCausalLM"}}, {"attention_bias", false}, {"bos_token_id", 128000},
        {"eos_token_id", 128001}, {"hidden_act", "silu"}, {"hidden_size", s.hidden},
        {"intermediate_size", s.intermediate}, {"max_position_embeddings", 8192}, {"model_type", "llama"},
        {"num_attention_heads", s.heads}, {"num_hidden_layers", s.layers}, {"num_key_value_heads", s.kvHeads},
        {"rms_norm_eps", 1e-5}, {"rope_theta", 500000.0}, {"tie_word_embeddings", false},
        {"torch_dtype", "bfloat16"}, {"vocab_size", s.vocab}};
    for (const auto& [name, json] : {std::pair{"model.safetensors.index.json", index.dump(2)},
                                     std::pair{"config.json", config.dump(2)}}) {
        const auto p = folder / name;
        const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            ioFailure(p, "open");
        const bool ok = ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
        ::close(fd);
        if (!ok)
            ioFailure(p, "write");
    }
    return tensors;
}

} // namespace qs::test
