#include "core/io/hf_quant_config.hpp"

#include "core/util/error.hpp"

#include <fstream>
#include <sstream>

namespace qs::io {

const char* hfQuantMethodName(HfQuantMethod m)
{
    switch (m) {
    case HfQuantMethod::Gptq: return "gptq";
    case HfQuantMethod::Awq: return "awq";
    case HfQuantMethod::BnbNf4: return "bitsandbytes";
    case HfQuantMethod::W8A8: return "compressed-tensors";
    }
    return "?";
}

namespace {

nlohmann::ordered_json w8a8Config(const HfQuantConfig& c)
{
    const nlohmann::ordered_json weights = {{"num_bits", 8},      {"type", "int"},       {"symmetric", true},
                                            {"strategy", "channel"}, {"dynamic", false}, {"group_size", nullptr},
                                            {"actorder", nullptr}, {"block_structure", nullptr},
                                            {"observer", "minmax"}, {"observer_kwargs", nlohmann::json::object()}};
    const nlohmann::ordered_json inputs = {{"num_bits", 8},
                                           {"type", "int"},
                                           {"symmetric", true},
                                           {"strategy", c.staticActivations ? "tensor" : "token"},
                                           {"dynamic", !c.staticActivations},
                                           {"group_size", nullptr},
                                           {"actorder", nullptr},
                                           {"block_structure", nullptr},
                                           {"observer", c.staticActivations ? "minmax" : "memoryless"},
                                           {"observer_kwargs", nlohmann::json::object()}};
    return {{"quant_method", "compressed-tensors"},
            {"format", "int-quantized"},
            {"quantization_status", "compressed"},
            {"config_groups",
             {{"group_0",
               {{"targets", {"Linear"}},
                {"weights", weights},
                {"input_activations", inputs},
                {"output_activations", nullptr}}}}},
            {"ignore", {"lm_head"}},
            {"kv_cache_scheme", nullptr},
            {"global_compression_ratio", nullptr}};
}

} // namespace

nlohmann::ordered_json quantizationConfigJson(const HfQuantConfig& c)
{
    switch (c.method) {
    case HfQuantMethod::Gptq:
        return {{"quant_method", "gptq"},
                {"bits", c.bits},
                {"group_size", c.groupSize},
                {"desc_act", c.descAct},
                {"sym", c.sym},
                {"damp_percent", c.dampPercent},
                {"true_sequential", c.trueSequential},
                {"static_groups", c.staticGroups},
                {"checkpoint_format", c.gptqV2 ? "gptq_v2" : "gptq"},
                {"meta", {{"quantizer", {"quantscope"}}}}};
    case HfQuantMethod::Awq:
        return {{"quant_method", "awq"},
                {"bits", c.bits},
                {"group_size", c.groupSize},
                {"zero_point", c.zeroPoint},
                {"version", "gemm"},
                {"modules_to_not_convert", nullptr}};
    case HfQuantMethod::BnbNf4:
        return {{"quant_method", "bitsandbytes"},
                {"_load_in_4bit", true},
                {"_load_in_8bit", false},
                {"load_in_4bit", true},
                {"load_in_8bit", false},
                {"bnb_4bit_quant_type", "nf4"},
                {"bnb_4bit_use_double_quant", c.doubleQuant},
                {"bnb_4bit_compute_dtype", c.computeDtype},
                {"bnb_4bit_quant_storage", "uint8"},
                {"llm_int8_threshold", 6.0},
                {"llm_int8_skip_modules", nullptr},
                {"llm_int8_enable_fp32_cpu_offload", false},
                {"llm_int8_has_fp16_weight", false}};
    case HfQuantMethod::W8A8:
        return w8a8Config(c);
    }
    return {};
}

nlohmann::ordered_json gptqQuantizeConfigJson(const HfQuantConfig& c)
{
    return {{"bits", c.bits},
            {"group_size", c.groupSize},
            {"damp_percent", c.dampPercent},
            {"desc_act", c.descAct},
            {"static_groups", c.staticGroups},
            {"sym", c.sym},
            {"true_sequential", c.trueSequential},
            {"model_name_or_path", nullptr},
            {"model_file_base_name", "model"},
            {"quant_method", "gptq"},
            {"checkpoint_format", c.gptqV2 ? "gptq_v2" : "gptq"}};
}

std::optional<HfQuantConfig> parseQuantizationConfig(const nlohmann::json& config, const std::string& file)
{
    if (!config.is_object() || !config.contains("quantization_config") || config["quantization_config"].is_null())
        return std::nullopt;
    const auto& q = config["quantization_config"];
    auto fail = [&](const std::string& what) -> HfQuantConfig { throw FormatError(file, "quantization_config: " + what); };
    if (!q.is_object() || !q.contains("quant_method") || !q["quant_method"].is_string())
        fail("no quant_method");
    const std::string method = q["quant_method"].get<std::string>();
    HfQuantConfig c;
    try {
        auto get = [&](const char* key, auto fallback) {
            return q.contains(key) && !q[key].is_null() ? q[key].get<decltype(fallback)>() : fallback;
        };
        if (method == "gptq") {
            c.method = HfQuantMethod::Gptq;
            c.bits = get("bits", 4);
            c.groupSize = get("group_size", 128);
            c.descAct = get("desc_act", false);
            c.sym = get("sym", true);
            const std::string format = get("checkpoint_format", std::string("gptq"));
            if (format != "gptq" && format != "gptq_v2")
                fail("checkpoint_format \"" + format + "\" is not gptq or gptq_v2");
            c.gptqV2 = format == "gptq_v2";
            if (c.bits != 2 && c.bits != 3 && c.bits != 4 && c.bits != 8)
                fail("GPTQ bits " + std::to_string(c.bits) + " is not 2, 3, 4 or 8");
        } else if (method == "awq") {
            c.method = HfQuantMethod::Awq;
            c.bits = q.contains("w_bit") ? get("w_bit", 4) : get("bits", 4);
            c.groupSize = q.contains("q_group_size") ? get("q_group_size", 128) : get("group_size", 128);
            c.zeroPoint = get("zero_point", true);
            const std::string version = get("version", std::string("gemm"));
            if (version != "gemm" && version != "GEMM")
                fail("AWQ version \"" + version + "\" is not gemm (GEMV and other layouts are not read)");
            if (c.bits != 4)
                fail("AWQ bits " + std::to_string(c.bits) + " is not 4");
            if (!c.zeroPoint)
                fail("AWQ without zero_point is not read");
        } else if (method == "bitsandbytes") {
            c.method = HfQuantMethod::BnbNf4;
            if (!get("load_in_4bit", false))
                fail("only load_in_4bit bitsandbytes checkpoints are read");
            const std::string type = get("bnb_4bit_quant_type", std::string("fp4"));
            if (type != "nf4")
                fail("bnb_4bit_quant_type \"" + type + "\" is not nf4");
            c.doubleQuant = get("bnb_4bit_use_double_quant", false);
            c.computeDtype = get("bnb_4bit_compute_dtype", std::string("float32"));
        } else if (method == "compressed-tensors") {
            c.method = HfQuantMethod::W8A8;
            c.bits = 8;
            const auto& groups = q.at("config_groups");
            if (!groups.is_object() || groups.size() != 1)
                fail("compressed-tensors: one config group expected");
            const auto& g = groups.begin().value();
            const auto& w = g.at("weights");
            if (w.at("num_bits").get<int>() != 8 || w.at("type") != "int" || w.at("strategy") != "channel" ||
                !w.at("symmetric").get<bool>())
                fail("compressed-tensors: only int8 symmetric per-channel weights are read");
            const auto& a = g.at("input_activations");
            c.staticActivations = !a.is_null() && !a.at("dynamic").get<bool>();
        } else {
            fail("quant_method \"" + method + "\" is not one of gptq, awq, bitsandbytes, compressed-tensors");
        }
    } catch (const nlohmann::json::exception& e) {
        fail(std::string("ill-typed or missing setting: ") + e.what());
    }
    return c;
}

std::optional<HfQuantConfig> readQuantizationConfig(const std::filesystem::path& configJson)
{
    std::ifstream f(configJson, std::ios::binary);
    if (!f)
        throw NotFoundError(configJson.string() + ": cannot be read");
    std::stringstream ss;
    ss << f.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(ss.str());
    } catch (const std::exception& e) {
        throw FormatError(configJson.string(), std::string("invalid JSON: ") + e.what());
    }
    return parseQuantizationConfig(j, configJson.string());
}

} // namespace qs::io
