#pragma once
// The architecture of a checkpoint as its HF config.json (or GGUF metadata) describes it.
// Llama family first: Llama 2/3/3.1, Mistral, Qwen2/2.5, Qwen3. Anything else still opens
// for inspection of its raw tensors with supported == false and a reason.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace qs::model {

struct RopeScaling {
    std::string type = "default"; // "default", "linear", "dynamic", "llama3", "yarn", ...
    double factor = 1.0;
    double lowFreqFactor = 1.0;   // llama3
    double highFreqFactor = 4.0;  // llama3
    std::int64_t originalMaxPositionEmbeddings = 0;
};

struct ArchSpec {
    std::string architecture;     // e.g. "LlamaForCausalLM" (HF) or "llama" (GGUF)
    std::string modelType;        // config.json model_type: "llama", "mistral", "qwen2", "qwen3"
    bool supported = false;
    std::string unsupportedReason; // "not supported yet: NAME" when !supported

    std::int64_t vocabSize = 0;
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;  // GQA: fewer than numHeads
    std::int64_t headDim = 0;     // hiddenSize / numHeads unless config says otherwise
    std::int64_t maxPositionEmbeddings = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    std::optional<RopeScaling> ropeScaling;
    bool tieWordEmbeddings = false;
    bool qkvBias = false;         // Qwen2/2.5
    bool qkNorm = false;          // Qwen3
    std::optional<std::int64_t> slidingWindow; // Mistral (informational)
    std::string torchDtype;       // "bfloat16", "float16", "float32", ...
    std::optional<std::int64_t> bosTokenId;
    std::optional<std::int64_t> eosTokenId;
};

// Parses a HF config.json. Throws io::FormatError (naming the file) for invalid JSON or
// missing/ill-typed required fields of a supported architecture; an unknown architecture
// returns supported == false.
ArchSpec parseHfConfig(const std::filesystem::path& configJson);
ArchSpec parseHfConfigText(const std::string& json, const std::string& fileNameForErrors);

} // namespace qs::model
