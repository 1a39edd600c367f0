#pragma once
// A test-side GGUF writer: any metadata value (nested arrays included), tensors with raw block
// bytes at chosen or automatic offsets, any alignment. It records where each field landed
// (marks) so malformed-file tests can patch a valid file at a known place.
#include "core/io/gguf.hpp"

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qs::test {

using io::GgufValue;
using VT = io::GgufValue::Type;

namespace gv {
inline GgufValue make(VT t, decltype(GgufValue::value) v)
{
    GgufValue g;
    g.type = t;
    g.value = std::move(v);
    return g;
}
inline GgufValue u8(std::uint64_t v) { return make(VT::U8, v); }
inline GgufValue i8(std::int64_t v) { return make(VT::I8, v); }
inline GgufValue u16(std::uint64_t v) { return make(VT::U16, v); }
inline GgufValue i16(std::int64_t v) { return make(VT::I16, v); }
inline GgufValue u32(std::uint64_t v) { return make(VT::U32, v); }
inline GgufValue i32(std::int64_t v) { return make(VT::I32, v); }
inline GgufValue u64(std::uint64_t v) { return make(VT::U64, v); }
inline GgufValue i64(std::int64_t v) { return make(VT::I64, v); }
inline GgufValue f32(double v) { return make(VT::F32, v); }
inline GgufValue f64(double v) { return make(VT::F64, v); }
inline GgufValue boolean(bool v) { return make(VT::Bool, v); }
inline GgufValue str(std::string v) { return make(VT::String, std::move(v)); }
inline GgufValue arr(std::vector<GgufValue> items) { return make(VT::Array, std::move(items)); }
inline GgufValue strings(const std::vector<std::string>& items)
{
    std::vector<GgufValue> v;
    for (const auto& s : items)
        v.push_back(str(s));
    return arr(std::move(v));
}
} // namespace gv

class GgufTestWriter {
public:
    std::string magic = "GGUF";
    std::uint32_t version = 3;
    std::uint64_t alignment = 32;          // used for padding
    bool writeAlignmentKey = false;        // also store it as general.alignment (u32)
    std::optional<std::uint64_t> tensorCountOverride, kvCountOverride;
    std::map<std::string, std::size_t> marks; // field name -> byte offset, filled by build()

    void add(const std::string& key, GgufValue v) { kvs_.push_back({key, std::move(v)}); }

    // ne in ggml order (innermost first); data are the raw bytes; offset relative to the
    // data section (automatic: the next aligned position).
    void addTensor(const std::string& name, std::vector<std::uint64_t> ne, std::uint32_t type, std::string data,
                   std::optional<std::uint64_t> offset = std::nullopt)
    {
        tensors_.push_back({name, std::move(ne), type, std::move(data), offset});
    }

    std::string build()
    {
        marks.clear();
        out_.clear();
        out_ += magic;
        put<std::uint32_t>(version);
        marks["tensor_count"] = out_.size();
        put<std::uint64_t>(tensorCountOverride.value_or(tensors_.size()));
        marks["kv_count"] = out_.size();
        put<std::uint64_t>(kvCountOverride.value_or(kvs_.size() + (writeAlignmentKey ? 1 : 0)));
        if (writeAlignmentKey) {
            marks["kv:general.alignment"] = out_.size();
            putString("general.alignment");
            put<std::uint32_t>(static_cast<std::uint32_t>(VT::U32));
            marks["kv:general.alignment:value"] = out_.size();
            put<std::uint32_t>(static_cast<std::uint32_t>(alignment));
        }
        for (const auto& [key, value] : kvs_) {
            marks["kv:" + key] = out_.size();
            putString(key);
            put<std::uint32_t>(static_cast<std::uint32_t>(value.type));
            marks["kv:" + key + ":value"] = out_.size();
            putValue(value);
        }
        // Lay out data first so the infos can name the offsets.
        std::vector<std::uint64_t> offsets;
        std::uint64_t next = 0, end = 0;
        for (const auto& t : tensors_) {
            const std::uint64_t off = t.offset.value_or(next);
            offsets.push_back(off);
            end = std::max<std::uint64_t>(end, off + t.data.size());
            next = padTo(std::max(next, off + t.data.size()));
        }
        for (std::size_t i = 0; i < tensors_.size(); ++i) {
            const auto& t = tensors_[i];
            marks["tensor:" + t.name] = out_.size();
            putString(t.name);
            marks["tensor:" + t.name + ":ndims"] = out_.size();
            put<std::uint32_t>(static_cast<std::uint32_t>(t.ne.size()));
            marks["tensor:" + t.name + ":dims"] = out_.size();
            for (auto n : t.ne)
                put<std::uint64_t>(n);
            marks["tensor:" + t.name + ":type"] = out_.size();
            put<std::uint32_t>(t.type);
            marks["tensor:" + t.name + ":offset"] = out_.size();
            put<std::uint64_t>(offsets[i]);
        }
        if (!tensors_.empty()) {
            out_.resize(padTo(out_.size()), '\0');
            const std::size_t dataStart = out_.size();
            marks["data"] = dataStart;
            out_.resize(dataStart + end, '\0');
            for (std::size_t i = 0; i < tensors_.size(); ++i)
                if (!tensors_[i].data.empty())
                    std::memcpy(out_.data() + dataStart + offsets[i], tensors_[i].data.data(), tensors_[i].data.size());
        }
        return out_;
    }

    // Encodes one value (no type tag) the way GGUF stores it.
    static std::string encode(const GgufValue& v)
    {
        GgufTestWriter w;
        w.putValue(v);
        return w.out_;
    }

private:
    struct PendingTensor {
        std::string name;
        std::vector<std::uint64_t> ne;
        std::uint32_t type;
        std::string data;
        std::optional<std::uint64_t> offset;
    };

    std::uint64_t padTo(std::uint64_t n) const { return (n + alignment - 1) / alignment * alignment; }

    template <typename T>
    void put(T v)
    {
        char buf[sizeof(T)];
        std::memcpy(buf, &v, sizeof(T));
        out_.append(buf, sizeof(T));
    }

    void putString(const std::string& s)
    {
        put<std::uint64_t>(s.size());
        out_ += s;
    }

    static std::uint64_t asU(const GgufValue& v)
    {
        if (const auto* u = std::get_if<std::uint64_t>(&v.value))
            return *u;
        return static_cast<std::uint64_t>(std::get<std::int64_t>(v.value));
    }

    void putValue(const GgufValue& v)
    {
        switch (v.type) {
        case VT::U8: case VT::I8: put<std::uint8_t>(static_cast<std::uint8_t>(asU(v))); break;
        case VT::U16: case VT::I16: put<std::uint16_t>(static_cast<std::uint16_t>(asU(v))); break;
        case VT::U32: case VT::I32: put<std::uint32_t>(static_cast<std::uint32_t>(asU(v))); break;
        case VT::U64: case VT::I64: put<std::uint64_t>(asU(v)); break;
        case VT::F32: put<float>(static_cast<float>(std::get<double>(v.value))); break;
        case VT::F64: put<double>(std::get<double>(v.value)); break;
        case VT::Bool: put<std::uint8_t>(std::get<bool>(v.value) ? 1 : 0); break;
        case VT::String: putString(std::get<std::string>(v.value)); break;
        case VT::Array: {
            const auto& items = std::get<std::vector<GgufValue>>(v.value);
            put<std::uint32_t>(static_cast<std::uint32_t>(items.empty() ? VT::U8 : items.front().type));
            put<std::uint64_t>(items.size());
            for (const auto& item : items)
                putValue(item);
            break;
        }
        }
    }

    std::vector<std::pair<std::string, GgufValue>> kvs_;
    std::vector<PendingTensor> tensors_;
    std::string out_;
};

// Overwrites sizeof(T) bytes of `bytes` at `at`.
template <typename T>
void patch(std::string& bytes, std::size_t at, T v)
{
    std::memcpy(bytes.data() + at, &v, sizeof(T));
}

} // namespace qs::test
