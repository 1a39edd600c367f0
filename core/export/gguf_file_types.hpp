#pragma once
// GGUF file types (llama.cpp's llama_ftype) and the type each tensor gets in them, following
// llama.cpp's llama_tensor_get_type for the types written here:
//  - 1-D tensors (norms, biases, rope factors) stay F32;
//  - output.weight (token_embd.weight when the output is tied) gets Q6_K in every quantized
//    type except Q8_0, which keeps Q8_0;
//  - Q4_K_M: attn_v.weight and ffn_down.weight get Q6_K in the layers use_more_bits picks (the
//    first and last eighth and every third in between: about half), every other matrix Q4_K;
//  - a row length that is not a multiple of the block size falls back as llama.cpp does:
//    Q4_K -> Q5_0, Q6_K -> Q8_0, then F16 if the row is still not a multiple of 32.
#include "core/export/ggml_quantize.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qs::exporting {

struct GgufFileType {
    std::string name;        // "Q4_K_M"
    std::uint32_t ftype = 0; // general.file_type (llama_ftype)
    GgmlType base = GgmlType::F16;
    bool kMix = false;       // Q4_K_M's per-tensor rules
};

// "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K_M" (also "Q4_K", as llama-quantize
// accepts it), "Q6_K". Throws qs::Error listing the choices.
GgufFileType parseGgufFileType(const std::string& name);
const std::vector<std::string>& ggufFileTypeNames();

// llama.cpp's use_more_bits(i, n).
bool useMoreBits(int layer, int layers);

struct TensorTypeChoice {
    GgmlType type;
    bool fellBack = false; // the rule's type did not fit the row length
};

// The type of GGUF tensor `name` ("blk.3.attn_v.weight", "output.weight", ...) with `dims`
// (row-major) in a file of type ft. layer / layers: the tensor's block and the block count.
// tiedOutput: the file has no output.weight (token_embd then takes the output rule).
TensorTypeChoice ggufTensorType(const GgufFileType& ft, const std::string& name, const std::vector<std::int64_t>& dims,
                                int layer, int layers, bool tiedOutput);

} // namespace qs::exporting
