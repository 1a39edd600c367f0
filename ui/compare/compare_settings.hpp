#pragma once
// What the run panel asks for: the methods to compare and their shared settings, the
// calibration preset and the evaluation windows. Plain C++ so the job can copy it to a worker.
#include "core/quant/quant_config.hpp"

#include <string>
#include <vector>

namespace qs::ui {

struct CompareSettings {
    std::vector<std::string> methods{"rtn"};
    int bits = 4;              // rtn, gptq, awq; absmax and smoothquant are 8-bit methods
    int groupSize = 128;       // 0: per output channel
    float alpha = 0.5f;        // smoothquant
    float damp = 0.01f;        // gptq
    bool actOrder = false;     // gptq
    bool awqClip = true;       // awq: clip search (skipped for q and k)
    std::string calibrationText; // a UTF-8 text file; empty: the demo model's calibration.txt
    std::string calibrationPreset = "quick"; // tiny, quick, standard (calib::calibrationPresets)
    int evalWindows = 8;
    int evalContext = 256;
    bool preferGpu = false;
    std::uint64_t seed = 0;

    // The QuantConfig one method runs with: its own defaults where a shared setting does not
    // apply (absmax and smoothquant are W8, NF4 has its own block size).
    quant::QuantConfig configFor(const std::string& method) const
    {
        quant::QuantConfig c;
        c.method = method;
        c.seed = seed;
        if (method == "rtn" || method == "gptq" || method == "awq") {
            c.bits = bits;
            c.groupSize = groupSize;
        } else if (method == "absmax" || method == "smoothquant") {
            c.bits = 8;
        }
        c.alpha = alpha;
        c.damp = damp;
        c.actOrder = actOrder;
        c.awqClip = awqClip;
        return c;
    }
};

} // namespace qs::ui
