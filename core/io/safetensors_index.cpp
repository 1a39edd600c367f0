#include "core/io/safetensors_index.hpp"

#include "core/io/mapped_file.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace qs::io {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxIndexBytes = 100ull * 1024 * 1024;
constexpr int kMaxJsonDepth = 16;

// A shard must be a file directly inside the checkpoint folder: an index must not be able
// to make us open /etc/passwd or ../../other-model.
bool isPlainFileName(const std::string& s)
{
    return !s.empty() && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
           s.find("..") == std::string::npos && s.find('\0') == std::string::npos;
}

} // namespace

SafetensorsIndex parseSafetensorsIndex(std::span<const std::uint8_t> bytes, const std::string& fileName)
{
    if (bytes.size() > kMaxIndexBytes)
        throw FormatError(fileName, 0, "index is " + std::to_string(bytes.size()) + " bytes, over the " +
                                           std::to_string(kMaxIndexBytes) + "-byte limit");
    json root;
    try {
        const json::parser_callback_t limitDepth = [&](int depth, json::parse_event_t, json&) {
            if (depth > kMaxJsonDepth)
                throw FormatError(fileName, "index JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
            return true;
        };
        root = json::parse(bytes.begin(), bytes.end(), limitDepth);
    } catch (const json::parse_error& e) {
        throw FormatError(fileName, e.byte > 0 ? e.byte - 1 : 0, std::string("invalid index JSON: ") + e.what());
    } catch (const json::exception& e) { // e.g. out_of_range for a number like 1e999
        throw FormatError(fileName, std::string("invalid index JSON: ") + e.what());
    }
    if (!root.is_object())
        throw FormatError(fileName, 0, std::string("expected the index to be a JSON object, found ") + root.type_name());
    const auto wm = root.find("weight_map");
    if (wm == root.end() || !wm->is_object())
        throw FormatError(fileName, "expected \"weight_map\" to be an object of tensor name -> shard file");

    SafetensorsIndex out;
    std::set<std::string> shards;
    for (const auto& [name, shard] : wm->items()) {
        if (!shard.is_string())
            throw FormatError(fileName, "weight_map[\"" + name + "\"] should be a shard file name, found " + shard.dump());
        auto s = shard.get<std::string>();
        if (!isPlainFileName(s))
            throw FormatError(fileName, "weight_map[\"" + name + "\"] names shard '" + s +
                                            "', which is not a plain file name inside the folder");
        shards.insert(s);
        out.weightMap.emplace(name, std::move(s));
    }
    out.shards.assign(shards.begin(), shards.end());

    if (const auto meta = root.find("metadata"); meta != root.end() && meta->is_object())
        for (const auto& [k, v] : meta->items())
            out.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
    return out;
}

SafetensorsIndex readSafetensorsIndex(const std::filesystem::path& indexFile)
{
    const MappedFile file(indexFile);
    return parseSafetensorsIndex(file.bytes(), file.name());
}

} // namespace qs::io
