#include "core/io/safetensors_header.hpp"

#include "core/io/byte_reader.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace qs::io {

namespace {

using nlohmann::json;

constexpr std::uint64_t kHeaderStart = 8;
// Real headers nest three deep (root -> entry -> shape); anything far deeper is hostile.
constexpr int kMaxJsonDepth = 16;

class HeaderParser {
public:
    HeaderParser(std::string file, std::uint64_t dataBytes) : file_(std::move(file)), dataBytes_(dataBytes) {}

    [[noreturn]] void fail(const std::string& detail) const { throw FormatError(file_, kHeaderStart, detail); }
    [[noreturn]] void failTensor(const std::string& name, const std::string& detail) const
    {
        fail("tensor '" + name + "': " + detail);
    }

    json parseJson(std::string_view text) const
    {
        if (text.empty() || text.front() != '{')
            fail("expected the header JSON to start with '{'");
        const json::parser_callback_t limitDepth = [this](int depth, json::parse_event_t, json&) {
            if (depth > kMaxJsonDepth)
                fail("header JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
            return true;
        };
        try {
            return json::parse(text.begin(), text.end(), limitDepth);
        } catch (const json::parse_error& e) {
            // e.byte is 1-based: the position of the first byte the parser could not accept.
            const std::uint64_t at = kHeaderStart + (e.byte > 0 ? e.byte - 1 : 0);
            throw FormatError(file_, at, std::string("invalid header JSON (header starts at offset 8): ") + e.what());
        } catch (const json::exception& e) {
            fail(std::string("invalid header JSON: ") + e.what());
        }
    }

    void parseMetadata(const json& meta, SafetensorsHeader& out) const
    {
        if (!meta.is_object())
            fail("expected \"__metadata__\" to be an object of strings");
        for (const auto& [key, value] : meta.items()) {
            if (!value.is_string())
                fail("expected \"__metadata__\"[\"" + key + "\"] to be a string, found " + value.type_name());
            out.metadata[key] = value.get<std::string>();
        }
    }

    TensorInfo parseEntry(const std::string& name, const json& entry) const
    {
        if (!entry.is_object())
            failTensor(name, std::string("expected an object with dtype, shape, data_offsets, found ") + entry.type_name());
        TensorInfo t;
        t.name = name;
        t.file = file_;

        const auto dt = entry.find("dtype");
        if (dt == entry.end() || !dt->is_string())
            failTensor(name, "expected \"dtype\" to be a string");
        const auto dtype = dtypeFromName(dt->get<std::string>());
        if (!dtype)
            failTensor(name, "unknown dtype \"" + dt->get<std::string>() + "\"");
        t.dtype = std::string(dtypeName(*dtype));

        const auto shape = entry.find("shape");
        if (shape == entry.end() || !shape->is_array())
            failTensor(name, "expected \"shape\" to be an array of non-negative integers");
        std::uint64_t numel = 1;
        for (const auto& d : *shape) {
            const std::uint64_t dim = nonNegativeInt(d, name, "shape entry");
            if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                failTensor(name, "shape entry " + std::to_string(dim) + " is too large");
            if (dim != 0 && numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / dim)
                failTensor(name, "shape " + shape->dump() + " overflows 64-bit element count");
            numel *= dim;
            t.shape.push_back(static_cast<std::int64_t>(dim));
        }

        const auto offs = entry.find("data_offsets");
        if (offs == entry.end() || !offs->is_array() || offs->size() != 2)
            failTensor(name, "expected \"data_offsets\" to be an array [begin, end]");
        const std::uint64_t begin = nonNegativeInt((*offs)[0], name, "data_offsets begin");
        const std::uint64_t end = nonNegativeInt((*offs)[1], name, "data_offsets end");
        if (begin > end)
            failTensor(name, "data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
        if (end > dataBytes_)
            failTensor(name, "data_offsets end " + std::to_string(end) + " is beyond the data section of " +
                                 std::to_string(dataBytes_) + " bytes");
        const std::uint64_t elemSize = dtypeSize(*dtype);
        if (numel > std::numeric_limits<std::uint64_t>::max() / elemSize)
            failTensor(name, "byte size of shape " + shape->dump() + " overflows");
        if (end - begin != numel * elemSize)
            failTensor(name, "data_offsets span " + std::to_string(end - begin) + " bytes but shape " + shape->dump() +
                                 " of " + t.dtype + " needs " + std::to_string(numel * elemSize));
        t.nbytes = end - begin;
        t.offset = begin; // relative until the overlap check is done; made absolute by the caller
        return t;
    }

private:
    std::uint64_t nonNegativeInt(const json& v, const std::string& name, const char* what) const
    {
        if (v.is_number_unsigned())
            return v.get<std::uint64_t>();
        if (v.is_number_integer()) {
            const auto s = v.get<std::int64_t>();
            if (s >= 0)
                return static_cast<std::uint64_t>(s);
            failTensor(name, std::string(what) + " is negative (" + std::to_string(s) + ")");
        }
        failTensor(name, std::string("expected ") + what + " to be a non-negative integer, found " + v.dump());
    }

    std::string file_;
    std::uint64_t dataBytes_;
};

} // namespace

SafetensorsHeader parseSafetensorsHeader(std::span<const std::uint8_t> fileBytes, const std::string& fileName)
{
    ByteReader reader(fileBytes, fileName);
    SafetensorsHeader out;
    out.headerBytes = reader.read<std::uint64_t>("8-byte little-endian header length");
    if (out.headerBytes > reader.remaining())
        throw FormatError(fileName, 0,
                          "declared header length " + std::to_string(out.headerBytes) + " exceeds the " +
                              std::to_string(reader.remaining()) + " bytes after the length field");
    if (out.headerBytes > kMaxSafetensorsHeaderBytes)
        throw FormatError(fileName, 0,
                          "declared header length " + std::to_string(out.headerBytes) + " exceeds the " +
                              std::to_string(kMaxSafetensorsHeaderBytes) + "-byte limit");
    const std::string_view text = reader.takeString(out.headerBytes, "header JSON");
    out.dataStart = kHeaderStart + out.headerBytes;

    HeaderParser parser(fileName, reader.remaining());
    const json root = parser.parseJson(text);
    if (!root.is_object())
        parser.fail(std::string("expected the header JSON to be an object, found ") + root.type_name());

    out.tensors.reserve(root.size());
    for (const auto& [key, value] : root.items()) {
        if (key == "__metadata__")
            parser.parseMetadata(value, out);
        else
            out.tensors.push_back(parser.parseEntry(key, value));
    }

    // Data order is the writer's order (and the natural layer order); it also makes the
    // overlap check one pass. Empty tensors may share a begin with their neighbour.
    std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes;
    });
    for (std::size_t i = 1; i < out.tensors.size(); ++i) {
        const auto& prev = out.tensors[i - 1];
        const auto& cur = out.tensors[i];
        if (prev.offset + prev.nbytes > cur.offset)
            parser.fail("tensors '" + prev.name + "' [" + std::to_string(prev.offset) + ", " +
                        std::to_string(prev.offset + prev.nbytes) + ") and '" + cur.name + "' [" +
                        std::to_string(cur.offset) + ", " + std::to_string(cur.offset + cur.nbytes) +
                        ") overlap in the data section");
    }
    for (auto& t : out.tensors)
        t.offset += out.dataStart;
    return out;
}

} // namespace qs::io
