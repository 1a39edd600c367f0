#pragma once
// bitsandbytes' serialized 4-bit weights (Params4bit + QuantState.as_dict(packed=True)), as
// transformers saves a load_in_4bit model, and their conversion to and from compute::Nf4:
//   PREFIX.weight                               uint8 [(N*K+1)/2, 1]: two codes per byte over the
//                                               row-major flattened [N][K], the first in the HIGH nibble
//   PREFIX.weight.absmax                        f32 [blocks], or uint8 [blocks] codes when nested
//   PREFIX.weight.quant_map                     f32 [16] (the NF4 levels)
//   PREFIX.weight.nested_absmax                 f32 [ceil(blocks/256)]          (nested only)
//   PREFIX.weight.nested_quant_map              f32 [256] (the dynamic 8-bit map) (nested only)
//   PREFIX.weight.quant_state.bitsandbytes__nf4 uint8 bytes of the JSON {"quant_type", "blocksize",
//                                               "dtype", "shape", and when nested "nested_blocksize",
//                                               "nested_dtype", "nested_offset"}
// Dequantized: w = quant_map[code] * absmax[b], absmax[b] = nested_quant_map[qabsmax[b]] *
// nested_absmax[b / 256] + nested_offset when nested.
#include "core/compute/weight_formats.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qs::io {

// Two codes per byte, the first in the high nibble; an odd count leaves the last low nibble 0.
std::vector<std::uint8_t> packBnbNibbles(const std::vector<std::uint8_t>& codes);
std::vector<std::uint8_t> unpackBnbNibbles(const std::vector<std::uint8_t>& bytes, std::size_t count);

struct BnbNf4Tensors {
    std::vector<std::uint8_t> weight;          // [(N*K+1)/2]
    std::vector<float> absmax;                 // when !nested
    std::vector<std::uint8_t> absmaxCodes;     // when nested
    std::vector<float> quantMap;               // 16
    std::vector<float> nestedAbsmax;           // when nested
    std::vector<float> nestedQuantMap;         // 256 when nested
    std::string quantStateJson;                // the packed non-tensor items
    bool nested() const { return !absmaxCodes.empty(); }
};

// dtype: the module dtype recorded in the quant state ("float16" or "bfloat16").
BnbNf4Tensors toBnbNf4(const compute::Nf4& m, const std::string& dtype);

// Checks every item (quant_type nf4, blocksize 64, nested_blocksize 256, shape [N, K], quant_map
// equal to the NF4 levels) and throws qs::Error naming `what` otherwise.
compute::Nf4 fromBnbNf4(const BnbNf4Tensors& t, int n, int k, const std::string& what);

} // namespace qs::io
