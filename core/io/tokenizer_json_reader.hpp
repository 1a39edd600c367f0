#pragma once
// Typed access to untrusted tokenizer JSON: every mismatch is a FormatError naming the file
// and the JSON path of what was expected.
#include "core/io/tokenizer_pipeline.hpp"
#include "core/io/tokenizer_unicode.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace qs::io {

class JsonReader {
public:
    using json = nlohmann::json;
    using P = TokenizerPipeline;

    explicit JsonReader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& what) const { throw FormatError(file_, what); }

    const json& member(const json& obj, const char* key, const std::string& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end())
            fail(path + "." + key + ": expected a value, found none");
        return *it;
    }
    const json& object(const json& v, const std::string& path) const
    {
        if (!v.is_object())
            fail(path + ": expected an object, found " + v.type_name());
        return v;
    }
    const json& array(const json& v, const std::string& path) const
    {
        if (!v.is_array())
            fail(path + ": expected an array, found " + v.type_name());
        return v;
    }
    std::string string(const json& v, const std::string& path) const
    {
        if (!v.is_string())
            fail(path + ": expected a string, found " + v.type_name());
        return v.get<std::string>();
    }
    bool boolean(const json& obj, const char* key, bool fallback, const std::string& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return fallback;
        if (!it->is_boolean())
            fail(path + "." + key + ": expected true or false, found " + it->type_name());
        return it->get<bool>();
    }
    std::int64_t integer(const json& v, std::int64_t lo, std::int64_t hi, const std::string& path) const
    {
        if (!v.is_number_integer())
            fail(path + ": expected an integer, found " + v.type_name());
        const bool isUnsigned = v.is_number_unsigned();
        if (isUnsigned ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi) : v.get<std::int64_t>() > hi)
            fail(path + ": expected an integer at most " + std::to_string(hi));
        const std::int64_t x = isUnsigned ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
        if (x < lo)
            fail(path + ": expected an integer at least " + std::to_string(lo) + ", found " + std::to_string(x));
        return x;
    }
    std::string type(const json& obj, const std::string& path) const
    {
        return string(member(object(obj, path), "type", path), path + ".type");
    }
    // {"String": s} or {"Regex": r}
    std::pair<std::string, bool> pattern(const json& obj, const std::string& path) const
    {
        const json& p = object(member(obj, "pattern", path), path + ".pattern");
        if (p.contains("String"))
            return {string(p["String"], path + ".pattern.String"), false};
        if (p.contains("Regex"))
            return {string(p["Regex"], path + ".pattern.Regex"), true};
        fail(path + ".pattern: expected {\"String\": ...} or {\"Regex\": ...}");
    }
    P::PrependScheme prependScheme(const json& obj, const std::string& path) const
    {
        if (auto it = obj.find("prepend_scheme"); it != obj.end() && !it->is_null()) {
            const std::string s = string(*it, path + ".prepend_scheme");
            if (s == "always") return P::PrependScheme::Always;
            if (s == "first") return P::PrependScheme::First;
            if (s == "never") return P::PrependScheme::Never;
            fail(path + ".prepend_scheme: expected \"always\", \"first\" or \"never\", found \"" + s + "\"");
        }
        // Older files: add_prefix_space (default true).
        return boolean(obj, "add_prefix_space", true, path) ? P::PrependScheme::Always : P::PrependScheme::Never;
    }
    std::string replacementChar(const json& obj, const std::string& path) const
    {
        const char* key = obj.contains("replacement") ? "replacement" : "str_rep";
        const std::string r = obj.contains(key) ? string(obj[key], path + "." + key) : "\xE2\x96\x81";
        std::size_t i = 0;
        if (r.empty() || (unicode::next(r, i), i != r.size()))
            fail(path + "." + key + ": expected exactly one character");
        return r;
    }

    json parse(const std::string& text) const
    {
        try {
            return json::parse(text);
        } catch (const json::parse_error& e) {
            // nlohmann's message quotes the offending bytes, which may be invalid UTF-8.
            throw FormatError(file_, e.byte > 0 ? std::optional<std::uint64_t>(e.byte - 1) : std::nullopt,
                              "invalid JSON: " + unicode::toValidUtf8(e.what()));
        } catch (const json::exception& e) {
            // Found by fuzzing: a number too large for a double ("1e999") is out_of_range.
            throw FormatError(file_, "invalid JSON: " + unicode::toValidUtf8(e.what()));
        }
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
};

} // namespace qs::io
