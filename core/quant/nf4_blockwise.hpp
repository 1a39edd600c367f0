#pragma once
// bitsandbytes' quantize_4bit on a row-major weight: absmax per block of 64 consecutive
// values of the flattened matrix, each value coded against x * (1 / absmax) (NF4 or FP4),
// and optionally double quantization of the absmax constants (quantize_blockwise of
// absmax - mean in blocks of 256 with the signed dynamic 8-bit map, offset = the mean).
#include "core/compute/weight_formats.hpp"
#include "core/runtime/matrix.hpp"

#include <cstdint>
#include <vector>

namespace qs::quant {

enum class FourBitType { Nf4, Fp4 };
const std::array<float, 16>& fourBitLevels(FourBitType type);

struct FourBitBlocks {
    std::vector<std::uint8_t> codes; // one per value, 0..15
    std::vector<float> absmax;       // one per block
};
// count must be a multiple of blockSize. An all-zero block gets absmax 0 and the code of 0
// (bitsandbytes would divide by zero there; the dequantized block is 0 either way).
FourBitBlocks quantizeFourBitBlocks(const float* values, std::size_t count, int blockSize, FourBitType type);

// Double quantization of the absmax constants (bitsandbytes' compress_statistics).
struct DoubleQuantizedAbsmax {
    std::vector<std::uint8_t> codes; // one per absmax, indices into dynamicMap8Bit()
    std::vector<float> scales;       // one per block of 256 absmax: max |absmax - offset|
    float offset = 0;                // mean of the absmax values
};
DoubleQuantizedAbsmax doubleQuantize(const std::vector<float>& absmax, int blockSize = 256);
// absmax[b] as the kernels reconstruct it: map[code] * scale[b / 256] + offset.
std::vector<float> reconstructAbsmax(const DoubleQuantizedAbsmax& dq, int blockSize = 256);

// The compute format: NF4 with blocks of 64 over w [N][K] (K % 64 == 0), absmax in f32 or
// double-quantized.
compute::Nf4 quantizeNf4(const runtime::Mat& w, bool doubleQuant);

// FP4 weights dequantized to f32 (compute's Nf4 carries only the NF4 table), with the
// storage bits per weight bitsandbytes would need: 4 + absmax bits per value.
struct Fp4Result {
    runtime::Mat dequantized;
    double storageBitsPerWeight = 0;
};
Fp4Result quantizeFp4(const runtime::Mat& w, int blockSize, bool doubleQuant);

} // namespace qs::quant
