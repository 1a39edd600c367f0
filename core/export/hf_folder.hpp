#pragma once
// What every Hugging Face export folder shares: the unquantized tensors (embeddings, norms,
// lm_head, biases) in f16 or bf16, config.json from the source with quantization_config set,
// the tokenizer files and generation_config copied, one model.safetensors; and the check of
// the unquantized tensors after re-opening.
#include "core/io/hf_quant_config.hpp"
#include "core/io/safetensors_writer.hpp"
#include "core/runtime/llama_weights.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace qs::io {
class Checkpoint;
}

namespace qs::exporting {

// "model.layers.3.self_attn.q_proj", "model.layers.3.mlp.down_proj".
std::string hfLinearName(int block, runtime::LinearRole role);

// x as f16 (or bf16) holds it, round to nearest even.
float roundToHalf(float x, bool bf16);

// An unquantized tensor: its f32 source and how it is stored.
struct PlainTensor {
    std::string name;
    Shape shape;
    std::vector<float> values; // f32, row-major
};

class HfFolderWriter {
public:
    HfFolderWriter(const std::filesystem::path& sourceFolder, bool bf16);

    io::SafetensorsWriter& tensors() { return tensors_; }
    bool bf16() const { return bf16_; }

    // Adds the tensor in f16/bf16 and remembers it for verification.
    void addPlain(PlainTensor t);
    // Embeddings, every norm, lm_head (unless tied): everything but the block linears.
    void addUnquantized(const runtime::LlamaWeights& w);

    void setQuantization(const io::HfQuantConfig& c, bool writeGptqQuantizeConfig);

    std::uint64_t expectedBytes() const;
    // Writes model.safetensors, config.json (+ quantize_config.json) and the copied files;
    // onProgress gets the fraction of tensor bytes written (and may throw jobs::Cancelled).
    void write(const std::filesystem::path& folder, const std::function<void(double)>& onProgress = {}) const;
    // Compares every plain tensor of the re-opened checkpoint with its f16/bf16-rounded source,
    // exactly; returns the count and the worst max|stored - f32| / max|f32| (the rounding).
    int verifyPlain(const io::Checkpoint& reopened, double& maxRelError) const;

private:
    std::filesystem::path source_;
    bool bf16_;
    io::SafetensorsWriter tensors_;
    std::vector<PlainTensor> plain_;
    nlohmann::ordered_json config_;
    std::optional<nlohmann::ordered_json> quantizeConfig_;
    std::vector<std::filesystem::path> copies_;
};

} // namespace qs::exporting
