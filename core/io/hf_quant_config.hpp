#pragma once
// The "quantization_config" object of a Hugging Face config.json for the packed formats the
// project writes and reads (GPTQ, AWQ GEMM, bitsandbytes NF4, compressed-tensors int8 W8A8),
// and AutoGPTQ's quantize_config.json. Keys follow transformers' GPTQConfig / AwqConfig /
// BitsAndBytesConfig and compressed-tensors' QuantizationConfig.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace qs::io {

enum class HfQuantMethod { Gptq, Awq, BnbNf4, W8A8 };
const char* hfQuantMethodName(HfQuantMethod m); // "gptq", "awq", "bitsandbytes", "compressed-tensors"

struct HfQuantConfig {
    HfQuantMethod method = HfQuantMethod::Gptq;
    int bits = 4;
    int groupSize = 128;       // -1: one group per row
    // GPTQ.
    bool descAct = false;
    bool sym = false;
    bool gptqV2 = false;       // checkpoint_format "gptq_v2": zero points stored without minus one
    double dampPercent = 0.01;
    bool trueSequential = true;
    bool staticGroups = false;
    // AWQ.
    bool zeroPoint = true;
    // bitsandbytes.
    bool doubleQuant = true;
    std::string computeDtype = "float16";
    // W8A8.
    bool staticActivations = false; // per-tensor static input scale; else per-token dynamic
};

nlohmann::ordered_json quantizationConfigJson(const HfQuantConfig& c);
nlohmann::ordered_json gptqQuantizeConfigJson(const HfQuantConfig& c); // quantize_config.json

// The quantization_config of a parsed config.json; nullopt when it has none. Throws
// io::FormatError naming `file` for a method or setting this project cannot open.
std::optional<HfQuantConfig> parseQuantizationConfig(const nlohmann::json& config, const std::string& file);
std::optional<HfQuantConfig> readQuantizationConfig(const std::filesystem::path& configJson);

} // namespace qs::io
