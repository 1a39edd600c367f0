#pragma once
// ggml tensor types as GGUF stores them: the type number, ggml's name, and the block layout
// (elements per block, bytes per block) that sizes a tensor's data. Knowing the layout of a
// type is enough to open and inspect a file; decoding it to f32 is gguf_dequant's business.
#include <cstdint>
#include <optional>
#include <string_view>

namespace qs::io {

struct GgmlTypeTraits {
    std::uint32_t id = 0;
    std::string_view name;       // ggml's spelling: "F32", "Q4_K", "IQ2_XXS", ...
    std::uint32_t blockSize = 1; // elements per block
    std::uint32_t blockBytes = 0;
};

// The super-block size of the k-quants.
inline constexpr std::uint32_t kQK_K = 256;

// nullopt for a type number ggml never defined or has since removed (4, 5, 31-33, 36-38).
std::optional<GgmlTypeTraits> ggmlTypeTraits(std::uint32_t id);
std::optional<GgmlTypeTraits> ggmlTypeTraitsByName(std::string_view name);

} // namespace qs::io
