#pragma once
// What the playground runs: the prompt, the method that makes the quantized copy (with the run
// panel's shared settings and defaults) and the sampling options. Plain C++, copied to workers.
#include "core/runtime/generate.hpp"
#include "ui/compare/compare_settings.hpp"

#include <string>

namespace qs::ui {

struct PlaygroundSettings {
    std::string prompt = "Once upon a time";
    std::string method = "rtn";
    int bits = 4;
    int groupSize = 128;
    std::string calibrationPreset = "tiny"; // for methods that calibrate (gptq, awq, smoothquant)
    int maxTokens = 64;
    float temperature = 0.0f;               // 0: greedy
    float topP = 0.95f;
    std::uint64_t seed = 0;

    quant::QuantConfig quantConfig() const
    {
        CompareSettings c;
        c.bits = bits;
        c.groupSize = groupSize;
        c.seed = seed;
        return c.configFor(method);
    }
    runtime::SamplingOptions sampling() const
    {
        runtime::SamplingOptions o;
        o.maxTokens = maxTokens;
        o.temperature = temperature;
        o.topP = topP;
        o.seed = seed;
        return o;
    }
};

} // namespace qs::ui
