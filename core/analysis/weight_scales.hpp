#pragma once
// The scales a quantized weight format stores, as one [N rows][groups] matrix in weight units:
// int8 per output channel (one column), int2/3/4 per group of `groupCols` inputs, NF4 per block
// of 64 (its absmax, double quantization undone). Formats without scales give an empty matrix.
#include "core/compute/weight_formats.hpp"
#include "core/runtime/matrix.hpp"

#include <string>

namespace qs::analysis {

struct GroupScales {
    runtime::Mat scales; // [N][groups]
    int groupCols = 0;   // input columns per group (K for per-channel scales)
    std::string kind;    // "per output channel", "per group of 128", "absmax per block of 64"
};

GroupScales groupScales(const compute::WeightMatrix& w);

} // namespace qs::analysis
