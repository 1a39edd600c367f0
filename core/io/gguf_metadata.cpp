#include "core/io/gguf_metadata.hpp"

#include "core/util/error.hpp"

#include <cstdio>
#include <limits>

namespace qs::io {

namespace {

std::string formatDouble(double d)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", d);
    return buf;
}

std::string quoted(const std::string& s, std::size_t maxChars)
{
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < maxChars; ++i) {
        const char c = s[i];
        if (c == '"' || c == '\\')
            out += '\\', out += c;
        else if (c == '\n')
            out += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
            out += buf;
        } else
            out += c;
    }
    if (s.size() > maxChars)
        out += "...";
    return out + "\"";
}

} // namespace

std::string GgufValue::toString(std::size_t maxArrayItems) const
{
    // Long strings (chat templates run to kilobytes) are cut so a metadata listing stays
    // readable; the full value is in values().
    constexpr std::size_t kMaxStringChars = 256;
    return std::visit(
        [&](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::uint64_t> || std::is_same_v<T, std::int64_t>)
                return std::to_string(v);
            else if constexpr (std::is_same_v<T, double>)
                return formatDouble(v);
            else if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::string>)
                return quoted(v, kMaxStringChars);
            else {
                std::string out = "[";
                for (std::size_t i = 0; i < v.size() && i < maxArrayItems; ++i)
                    out += (i ? ", " : "") + v[i].toString(maxArrayItems);
                if (v.size() > maxArrayItems)
                    out += ", ... (" + std::to_string(v.size()) + " items)";
                return out + "]";
            }
        },
        value);
}

namespace gguf {

const char* typeName(GgufValue::Type t)
{
    using T = GgufValue::Type;
    switch (t) {
    case T::U8: return "u8";
    case T::I8: return "i8";
    case T::U16: return "u16";
    case T::I16: return "i16";
    case T::U32: return "u32";
    case T::I32: return "i32";
    case T::F32: return "f32";
    case T::Bool: return "bool";
    case T::String: return "string";
    case T::Array: return "array";
    case T::U64: return "u64";
    case T::I64: return "i64";
    case T::F64: return "f64";
    }
    return "?";
}

std::optional<std::int64_t> asInteger(const GgufValue& v)
{
    if (const auto* i = std::get_if<std::int64_t>(&v.value))
        return *i;
    if (const auto* u = std::get_if<std::uint64_t>(&v.value))
        if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return static_cast<std::int64_t>(*u);
    return std::nullopt;
}

std::optional<double> asNumber(const GgufValue& v)
{
    if (const auto* d = std::get_if<double>(&v.value))
        return *d;
    if (auto i = asInteger(v))
        return static_cast<double>(*i);
    return std::nullopt;
}

const GgufValue* MetadataView::find(const std::string& key) const
{
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->second;
}

void MetadataView::fail(const std::string& key, const std::string& expected) const
{
    const GgufValue* v = find(key);
    throw FormatError(file_, "metadata key " + key + ": expected " + expected +
                                 (v ? std::string(", found ") + typeName(v->type) : std::string(", missing")));
}

std::optional<std::int64_t> MetadataView::integer(const std::string& key) const
{
    const GgufValue* v = find(key);
    if (!v)
        return std::nullopt;
    auto i = asInteger(*v);
    if (!i)
        fail(key, "an integer");
    return i;
}

std::optional<double> MetadataView::number(const std::string& key) const
{
    const GgufValue* v = find(key);
    if (!v)
        return std::nullopt;
    auto d = asNumber(*v);
    if (!d)
        fail(key, "a number");
    return d;
}

std::optional<std::string> MetadataView::string(const std::string& key) const
{
    const GgufValue* v = find(key);
    if (!v)
        return std::nullopt;
    const auto* s = std::get_if<std::string>(&v->value);
    if (!s)
        fail(key, "a string");
    return *s;
}

std::optional<bool> MetadataView::boolean(const std::string& key) const
{
    const GgufValue* v = find(key);
    if (!v)
        return std::nullopt;
    if (const auto* b = std::get_if<bool>(&v->value))
        return *b;
    if (auto i = asInteger(*v))
        return *i != 0;
    fail(key, "a bool");
}

const std::vector<GgufValue>* MetadataView::array(const std::string& key) const
{
    const GgufValue* v = find(key);
    if (!v)
        return nullptr;
    const auto* a = std::get_if<std::vector<GgufValue>>(&v->value);
    if (!a)
        fail(key, "an array");
    return a;
}

} // namespace gguf
} // namespace qs::io
