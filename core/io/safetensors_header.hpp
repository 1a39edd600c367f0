#pragma once
// Parsing and validation of one safetensors file's header, from bytes. Split from the reader
// so the fuzzer can drive it directly and so opening a folder is just this per shard.
#include "core/io/checkpoint.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace qs::io {

// The largest header we accept: real headers are a few hundred KB; this bounds the JSON
// parser's memory whatever the file declares.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1024 * 1024;

struct SafetensorsHeader {
    std::uint64_t headerBytes = 0;  // N, the JSON length declared in the first 8 bytes
    std::uint64_t dataStart = 0;    // 8 + N: where data_offsets count from
    std::vector<TensorInfo> tensors; // in data order; offsets are absolute, file = fileName
    std::map<std::string, std::string> metadata; // "__metadata__"
};

// Validates and parses `fileBytes` (the whole file) as safetensors: header length, JSON,
// each entry's dtype, shape (overflow-checked), data_offsets (ordered, in range, sized as
// the shape says) and that no two tensors overlap. Reads only the header bytes.
// Throws FormatError naming fileName, the offset and what was expected.
SafetensorsHeader parseSafetensorsHeader(std::span<const std::uint8_t> fileBytes, const std::string& fileName);

} // namespace qs::io
