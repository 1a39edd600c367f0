#pragma once
// A tiny safetensors writer for tests: well-formed files from tensors the test made, plus
// raw building blocks (length prefix + arbitrary header text) for malformed ones.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace qs::test {

struct StTensor {
    std::string name;
    std::string dtype;              // safetensors name, written verbatim
    std::vector<std::int64_t> shape;
    std::string bytes;              // raw little-endian data
};

// The 8-byte little-endian length followed by the header text, no padding.
inline std::string stPrefix(std::uint64_t declaredLength)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((declaredLength >> (8 * i)) & 0xff);
    return s;
}

inline std::string stRaw(const std::string& headerText, const std::string& data = {})
{
    return stPrefix(headerText.size()) + headerText + data;
}

// A well-formed file: tensors laid out in the order given, header padded with spaces to a
// multiple of 8 as the reference writer does.
inline std::string stBuild(const std::vector<StTensor>& tensors, const std::map<std::string, std::string>& metadata = {})
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::string data;
    for (const auto& t : tensors) {
        const auto begin = data.size();
        data += t.bytes;
        header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    return stRaw(text, data);
}

template <typename T>
std::string bytesOf(const std::vector<T>& v)
{
    std::string s(v.size() * sizeof(T), '\0');
    if (!v.empty())
        std::memcpy(s.data(), v.data(), s.size());
    return s;
}

inline void writeBytes(const std::filesystem::path& p, const std::string& bytes)
{
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace qs::test
