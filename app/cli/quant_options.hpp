#pragma once
// Options shared by `quantize` and `compare`: method settings, calibration and evaluation.
#include "core/quant/quant_config.hpp"

#include <map>
#include <string>

namespace CLI {
class App;
}

namespace qs::cli {

struct QuantRunOptions {
    std::string model;
    quant::QuantConfig config;
    std::string calibText;     // default: the demo model's calibration text
    int samples = 32;
    int seqlen = 512;
    std::string evalText;      // default: the demo model's evaluation text
    int ctx = 512;
    int evalWindows = 32;      // 0: the whole text
    int bits = 0;                    // 0: the method's default (8 for absmax/smoothquant, else 4)
    bool staticActivations = false; // smoothquant: per-tensor static activation scales
    bool gpu = false;
    bool json = false;
};

// --gptq-solve's words: auto, gpu, cpu.
const std::map<std::string, quant::GptqSolveOn>& gptqSolveNames();

// Adds the method and calibration/evaluation options to a subcommand.
void addMethodOptions(CLI::App& cmd, QuantRunOptions& o);
void addRunOptions(CLI::App& cmd, QuantRunOptions& o);

// The config for one method: o.config with the method's name and default bits.
quant::QuantConfig configFor(const QuantRunOptions& o, const std::string& method);

} // namespace qs::cli
