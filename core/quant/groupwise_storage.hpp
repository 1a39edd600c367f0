#pragma once
// A group-wise integer result (RTN, GPTQ, AWQ) in a format the kernels run, and what it costs
// stored as the method means it (not as the kernels happen to hold it):
//  - 2/3/4 bits: IntGroupwise. Groups the kernels do not hold directly (per channel, 256, ...)
//    become groups of 128/64/32 repeating the same scale and zero: the same numbers.
//  - 5 to 8 bits per channel: Int8PerChannel, exact when code - zero fits int8 (symmetric, or
//    asymmetric up to 7 bits).
//  - anything else (5-8 bits in groups, asymmetric 8 bits per channel): f16 holding the
//    dequantized values, as GPTQ's reference evaluates ("fake" quantization); runtimeFormat
//    says so and the metrics are measured on what runs.
// bitsPerWeight counts the codes, one f32 scale (and zero when asymmetric) per logical group
// and g_idx, whatever the runtime copy repeats.
#include "core/compute/weight_formats.hpp"
#include "core/quant/groupwise.hpp"

#include <string>

namespace qs::quant {

struct StoredGroupwise {
    compute::WeightMatrix matrix;
    int storedGroupSize = 0;   // the kernel's group: 32/64/128; 0 for int8 per channel or f16
    std::string format;        // what the codes are: "int4-g128-asym", "int4-channel-sym", "int6-g64-asym-gidx"
    std::string runtimeFormat; // compute::formatName(matrix) plus why when it differs
    double bitsPerWeight = 0;
};

// r.groupSize == k means per channel. Throws qs::Error when the codes cannot be stored.
StoredGroupwise storeGroupwise(const GroupwiseResult& r, int n, int k, const GroupGrid& grid,
                               std::vector<std::int32_t> gIdx = {});

// The bits per weight of codes with one f32 scale (+ f32 zero when asymmetric) per group of
// groupSize columns (k: per channel) and an int32 g_idx entry per column when actOrder.
double groupwiseBitsPerWeight(int bits, int groupSize, int n, int k, bool symmetric, bool gIdx);

} // namespace qs::quant
