#pragma once
// model.safetensors.index.json: which shard file of a sharded checkpoint holds each tensor.
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace qs::io {

struct SafetensorsIndex {
    std::map<std::string, std::string> weightMap; // tensor name -> shard file name
    std::vector<std::string> shards;              // distinct shard names, sorted
    std::map<std::string, std::string> metadata;  // "metadata" values rendered as text
};

// Parses an index. Shard names must be plain file names inside the folder (no '/', '\\' or
// ".."). Throws FormatError naming the index file, NotFoundError if it does not exist.
SafetensorsIndex readSafetensorsIndex(const std::filesystem::path& indexFile);
SafetensorsIndex parseSafetensorsIndex(std::span<const std::uint8_t> bytes, const std::string& fileName);

} // namespace qs::io
