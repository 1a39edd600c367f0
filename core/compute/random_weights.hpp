#pragma once
// Random but valid weights in every format, for kernel tests and benchmarks (never zeros:
// random codes and positive scales of realistic magnitude).
#include "core/compute/weight_formats.hpp"

#include <random>
#include <string>
#include <vector>

namespace qs::compute {

std::vector<float> randomNormal(std::size_t count, std::mt19937& rng, float sigma = 1.0f);

DenseHalf randomDenseHalf(int n, int k, bool bf16, std::mt19937& rng);
Int8PerChannel randomInt8PerChannel(int n, int k, std::mt19937& rng);
IntGroupwise randomGroupwise(int n, int k, int bits, int groupSize, bool symmetric, bool actOrder, std::mt19937& rng);
Nf4 randomNf4(int n, int k, bool doubleQuant, std::mt19937& rng);
GgufBlocks randomGguf(GgufBlockType type, int n, int k, std::mt19937& rng);

// Names understood by randomWeights: "f16", "bf16", "int8", "int4-g128-sym", "int4-g128-asym",
// "int4-g128-asym-gidx", "int3-g64-asym", "int2-g32-asym", "nf4", "nf4-dq", "Q8_0", "Q4_0",
// "Q4_1", "Q4_K", "Q6_K" (intB-gG-{sym,asym}[-gidx] in general).
std::vector<std::string> standardFormatNames();
WeightMatrix randomWeights(const std::string& format, int n, int k, std::mt19937& rng);  // ComputeError if unknown

} // namespace qs::compute
