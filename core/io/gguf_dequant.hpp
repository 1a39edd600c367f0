#pragma once
// ggml block formats decoded to f32, following ggml's reference dequantize_row_* routines
// (ggml-quants.c) block by block. Each decoder reads exactly one block's bytes.
#include <cstdint>
#include <span>

namespace qs::io {

// Whether dequantizeGgml decodes this ggml type number.
bool ggmlCanDequantize(std::uint32_t type);

// Decodes `src` (whole blocks of `type`) into `dst`. Returns false for a type that is not
// decodable (the caller names the tensor in its error). Throws qs::Error when the sizes do not
// agree: src.size() must be dst.size() / blockSize * blockBytes.
bool dequantizeGgml(std::uint32_t type, std::span<const std::uint8_t> src, std::span<float> dst);

} // namespace qs::io
