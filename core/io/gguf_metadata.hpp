#pragma once
// Typed look-ups of GGUF metadata values. GGUF writers differ in the integer widths they use
// for the same key (u32 vs u64 vs i32), so integers are read whatever their width; a key that
// holds the wrong kind of value is a FormatError naming the key.
#include "core/io/gguf.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qs::io::gguf {

using Values = std::map<std::string, GgufValue>;

class MetadataView {
public:
    MetadataView(const Values& values, std::string file) : values_(values), file_(std::move(file)) {}

    const GgufValue* find(const std::string& key) const;
    bool has(const std::string& key) const { return find(key) != nullptr; }

    std::optional<std::int64_t> integer(const std::string& key) const;
    std::optional<double> number(const std::string& key) const;   // integers or floats
    std::optional<std::string> string(const std::string& key) const;
    std::optional<bool> boolean(const std::string& key) const;
    // An array's items (nullptr when absent; FormatError when the key is not an array).
    const std::vector<GgufValue>* array(const std::string& key) const;

    [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
    const std::string& file() const { return file_; }

private:
    const Values& values_;
    std::string file_;
};

// Value conversions for items of arrays; nullopt when the item is of another kind.
std::optional<std::int64_t> asInteger(const GgufValue& v);
std::optional<double> asNumber(const GgufValue& v);

const char* typeName(GgufValue::Type t);

} // namespace qs::io::gguf
