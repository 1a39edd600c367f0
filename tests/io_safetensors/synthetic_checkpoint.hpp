#pragma once
// Writes a synthetic sharded Llama checkpoint in HF layout (config.json, index, shards) whose
// shards are sparse: only the headers are written, the data is a hole made by ftruncate.
// Lets tests and benchmarks open an 8B-sized checkpoint without 16 GB of disk or I/O.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qs::test {

struct SyntheticLlama {
    // Defaults: Meta-Llama-3-8B.
    std::int64_t layers = 32;
    std::int64_t hidden = 4096;
    std::int64_t intermediate = 14336;
    std::int64_t vocab = 128256;
    std::int64_t heads = 32;
    std::int64_t kvHeads = 8;
    int shards = 4;
};

struct SyntheticTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::string shard; // file name of the shard that holds it
};

// Every tensor of the model in HF order (embed, per-layer, norm, lm_head), bf16.
std::vector<SyntheticTensor> syntheticLlamaTensors(const SyntheticLlama& spec);

// Writes the checkpoint into `folder` (created if needed) and returns its tensors.
// Throws std::runtime_error on I/O failure.
std::vector<SyntheticTensor> writeSyntheticLlamaCheckpoint(const std::filesystem::path& folder,
                                                           const SyntheticLlama& spec = {});

} // namespace qs::test
