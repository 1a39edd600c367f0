#pragma once
// Parsing and validation of a GGUF file's header (metadata + tensor infos) from bytes. Split
// from GgufCheckpoint so the fuzzer drives it directly and opening a file is just this on the
// memory map. Reads nothing past the tensor infos except to check that tensor data fits.
#include "core/io/checkpoint.hpp"
#include "core/io/gguf.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace qs::io {

inline constexpr std::uint64_t kGgufDefaultAlignment = 32;
inline constexpr std::uint32_t kGgufMaxDims = 4;
// Arrays of arrays are legal GGUF; no real file nests deeper than 2. The cap bounds recursion.
inline constexpr int kGgufMaxArrayDepth = 8;
// Every parsed value costs ~48 bytes of memory however small it is in the file (a u8 array
// element is 1 byte), so the total is capped: the largest real tokenizers hold ~1M values.
inline constexpr std::uint64_t kGgufMaxMetadataValues = 8ull * 1024 * 1024;

struct GgufTensorRecord {
    std::string name;
    std::vector<std::uint64_t> ne;  // ggml order: ne[0] innermost
    std::uint32_t type = 0;         // ggml type number
    std::uint64_t relativeOffset = 0; // from the start of the data section
    std::uint64_t nbytes = 0;
};

struct GgufHeader {
    std::uint32_t version = 0;
    std::uint64_t alignment = kGgufDefaultAlignment;
    std::map<std::string, GgufValue> values;
    std::vector<GgufTensorRecord> records; // in file order
    std::vector<TensorInfo> tensors;       // same order; shape row-major, offset absolute
    std::uint64_t dataStart = 0;           // absolute offset of the data section
};

// Validates and parses `fileBytes` (the whole file) as GGUF v2/v3: magic, version, counts
// (bounded by the bytes left), every metadata value (strings and arrays length-checked before
// anything is allocated, nesting capped), general.alignment (nonzero power of two), tensor
// infos (n_dims <= 4, dims a multiple of the type's block size, sizes overflow-checked,
// offsets aligned, in the file and non-overlapping). Throws FormatError naming fileName, the
// offset and what was expected.
GgufHeader parseGgufHeader(std::span<const std::uint8_t> fileBytes, const std::string& fileName);

} // namespace qs::io
