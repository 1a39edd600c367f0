#include "core/io/gguf_parser.hpp"

#include "core/io/byte_reader.hpp"
#include "core/io/gguf_types.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>

namespace qs::io {

namespace {

using VT = GgufValue::Type;

// Keys and tensor names are short in practice; the GGUF spec caps keys at 65535 bytes.
constexpr std::uint64_t kMaxNameBytes = 65535;
// Smallest encodings, used to bound declared counts by the bytes that remain.
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, 1-byte value
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims 0, type, offset
constexpr std::uint64_t kMaxAlignment = 1ull << 30;

std::uint64_t minEncodedSize(VT t)
{
    switch (t) {
    case VT::U8: case VT::I8: case VT::Bool: return 1;
    case VT::U16: case VT::I16: return 2;
    case VT::U32: case VT::I32: case VT::F32: return 4;
    case VT::U64: case VT::I64: case VT::F64: return 8;
    case VT::String: return 8;
    case VT::Array: return 12;
    }
    return 1;
}

class HeaderParser {
public:
    HeaderParser(std::span<const std::uint8_t> bytes, const std::string& file)
        : bytes_(bytes), file_(file), r_(bytes, file)
    {
    }

    GgufHeader parse()
    {
        readPreamble();
        for (std::uint64_t i = 0; i < kvCount_; ++i)
            readKeyValue(i);
        applyAlignment();
        for (std::uint64_t i = 0; i < tensorCount_; ++i)
            readTensorInfo(i);
        locateData();
        return std::move(h_);
    }

private:
    [[noreturn]] void fail(std::uint64_t offset, const std::string& detail) const
    {
        throw FormatError(file_, offset, detail);
    }

    void readPreamble()
    {
        if (bytes_.size() < 4 || std::memcmp(bytes_.data(), "GGUF", 4) != 0)
            fail(0, "expected the GGUF magic \"GGUF\" at the start of the file");
        r_.take(4, "magic");
        const std::uint64_t versionAt = r_.offset();
        h_.version = r_.read<std::uint32_t>("version");
        if (h_.version == 1)
            fail(versionAt, "GGUF v1 not supported (only v2 and v3)");
        if (h_.version != 2 && h_.version != 3) {
            // A big-endian file reads as a version with its bytes swapped (0x03000000).
            if ((h_.version & 0xffffu) == 0 && (h_.version >> 24) >= 1 && (h_.version >> 24) <= 3)
                fail(versionAt, "big-endian GGUF not supported");
            fail(versionAt, "unsupported GGUF version " + std::to_string(h_.version) + ": expected 2 or 3");
        }
        const std::uint64_t countsAt = r_.offset();
        tensorCount_ = r_.read<std::uint64_t>("tensor count");
        kvCount_ = r_.read<std::uint64_t>("metadata key/value count");
        // Bound both counts by the bytes left before anything is sized by them.
        const std::uint64_t left = r_.remaining();
        if (tensorCount_ > left / kMinTensorInfoBytes)
            fail(countsAt, "tensor count " + std::to_string(tensorCount_) + " cannot fit in the " +
                               std::to_string(left) + " bytes that follow");
        if (kvCount_ > (left - tensorCount_ * kMinTensorInfoBytes) / kMinKvBytes)
            fail(countsAt + 8, "metadata key/value count " + std::to_string(kvCount_) + " cannot fit in the " +
                                   std::to_string(left) + " bytes that follow");
    }

    std::string readName(const char* what)
    {
        const std::uint64_t at = r_.offset();
        const auto len = r_.read<std::uint64_t>(what);
        if (len > r_.remaining())
            fail(at, std::string(what) + " length " + std::to_string(len) + " runs past the end of the file (" +
                         std::to_string(r_.remaining()) + " bytes left)");
        if (len > kMaxNameBytes)
            fail(at, std::string(what) + " length " + std::to_string(len) + " exceeds " + std::to_string(kMaxNameBytes));
        return std::string(r_.takeString(len, what));
    }

    VT readType(const char* what)
    {
        const std::uint64_t at = r_.offset();
        const auto t = r_.read<std::uint32_t>(what);
        if (t > static_cast<std::uint32_t>(VT::F64))
            fail(at, std::string("unknown ") + what + " " + std::to_string(t) + ": expected 0..12");
        return static_cast<VT>(t);
    }

    void countValues(std::uint64_t n, std::uint64_t at)
    {
        if (n > kGgufMaxMetadataValues - valueCount_)
            fail(at, "metadata holds more than " + std::to_string(kGgufMaxMetadataValues) + " values");
        valueCount_ += n;
    }

    GgufValue readValue(VT type, int depth)
    {
        GgufValue v;
        v.type = type;
        switch (type) {
        case VT::U8: v.value = std::uint64_t{r_.read<std::uint8_t>("u8 value")}; break;
        case VT::I8: v.value = std::int64_t{r_.read<std::int8_t>("i8 value")}; break;
        case VT::U16: v.value = std::uint64_t{r_.read<std::uint16_t>("u16 value")}; break;
        case VT::I16: v.value = std::int64_t{r_.read<std::int16_t>("i16 value")}; break;
        case VT::U32: v.value = std::uint64_t{r_.read<std::uint32_t>("u32 value")}; break;
        case VT::I32: v.value = std::int64_t{r_.read<std::int32_t>("i32 value")}; break;
        case VT::U64: v.value = r_.read<std::uint64_t>("u64 value"); break;
        case VT::I64: v.value = r_.read<std::int64_t>("i64 value"); break;
        case VT::F32: v.value = double{r_.read<float>("f32 value")}; break;
        case VT::F64: v.value = r_.read<double>("f64 value"); break;
        case VT::Bool: {
            const std::uint64_t at = r_.offset();
            const auto b = r_.read<std::uint8_t>("bool value");
            if (b > 1)
                fail(at, "bool value " + std::to_string(b) + ": expected 0 or 1");
            v.value = b == 1;
            break;
        }
        case VT::String: {
            const std::uint64_t at = r_.offset();
            const auto len = r_.read<std::uint64_t>("string length");
            if (len > r_.remaining())
                fail(at, "string length " + std::to_string(len) + " runs past the end of the file (" +
                             std::to_string(r_.remaining()) + " bytes left)");
            v.value = std::string(r_.takeString(len, "string"));
            break;
        }
        case VT::Array: v.value = readArray(depth + 1); break;
        }
        return v;
    }

    std::vector<GgufValue> readArray(int depth)
    {
        const std::uint64_t at = r_.offset();
        if (depth > kGgufMaxArrayDepth)
            fail(at, "arrays nested deeper than " + std::to_string(kGgufMaxArrayDepth));
        const VT elem = readType("array element type");
        const auto len = r_.read<std::uint64_t>("array length");
        if (len > r_.remaining() / minEncodedSize(elem))
            fail(at, "array length " + std::to_string(len) + " cannot fit in the " +
                         std::to_string(r_.remaining()) + " bytes left");
        countValues(len, at);
        std::vector<GgufValue> items;
        items.reserve(static_cast<std::size_t>(len));
        for (std::uint64_t i = 0; i < len; ++i)
            items.push_back(readValue(elem, depth));
        return items;
    }

    void readKeyValue(std::uint64_t index)
    {
        const std::uint64_t at = r_.offset();
        std::string key = readName("metadata key");
        const VT type = readType("metadata value type");
        countValues(1, at);
        valueAt_[key] = r_.offset();
        GgufValue v = readValue(type, 0);
        if (!h_.values.emplace(key, std::move(v)).second)
            fail(at, "duplicate metadata key \"" + key + "\" (key/value " + std::to_string(index) + ")");
    }

    void applyAlignment()
    {
        auto it = h_.values.find("general.alignment");
        if (it == h_.values.end())
            return;
        const GgufValue& v = it->second;
        const std::uint64_t at = valueAt_.at("general.alignment");
        const auto* u = std::get_if<std::uint64_t>(&v.value);
        if (!u || v.type == VT::Bool)
            fail(at, "general.alignment must be an unsigned integer");
        if (*u == 0 || (*u & (*u - 1)) != 0 || *u > kMaxAlignment)
            fail(at, "general.alignment " + std::to_string(*u) +
                                  ": expected a nonzero power of two up to 2^30");
        h_.alignment = *u;
    }

    void readTensorInfo(std::uint64_t index)
    {
        const std::uint64_t at = r_.offset();
        GgufTensorRecord rec;
        rec.name = readName("tensor name");
        const std::string who = "tensor \"" + rec.name + "\"";
        const std::uint64_t dimsAt = r_.offset();
        const auto nDims = r_.read<std::uint32_t>("tensor n_dims");
        if (nDims > kGgufMaxDims)
            fail(dimsAt, who + " has n_dims " + std::to_string(nDims) + ": expected at most 4");
        for (std::uint32_t d = 0; d < nDims; ++d) {
            const auto n = r_.read<std::uint64_t>("tensor dimension");
            if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                fail(dimsAt, who + " dimension " + std::to_string(d) + " is negative");
            rec.ne.push_back(n);
        }
        const std::uint64_t typeAt = r_.offset();
        rec.type = r_.read<std::uint32_t>("tensor type");
        const std::uint64_t offsetAt = r_.offset();
        rec.relativeOffset = r_.read<std::uint64_t>("tensor data offset");

        const auto traits = ggmlTypeTraits(rec.type);
        if (!traits)
            fail(typeAt, who + " has unknown ggml type " + std::to_string(rec.type));
        rec.nbytes = tensorBytes(rec, *traits, who, dimsAt);
        if (rec.relativeOffset % h_.alignment != 0)
            fail(offsetAt, who + " data offset " + std::to_string(rec.relativeOffset) + " is not a multiple of the alignment " +
                               std::to_string(h_.alignment));
        if (!names_.insert(rec.name).second)
            fail(at, "duplicate tensor name \"" + rec.name + "\" (tensor " + std::to_string(index) + ")");
        offsetsAt_.push_back(offsetAt);

        TensorInfo info;
        info.name = rec.name;
        info.shape.assign(rec.ne.rbegin(), rec.ne.rend()); // ggml lists the innermost dim first
        info.dtype = std::string(traits->name);
        info.nbytes = rec.nbytes;
        info.file = file_;
        h_.tensors.push_back(std::move(info));
        h_.records.push_back(std::move(rec));
    }

    std::uint64_t tensorBytes(const GgufTensorRecord& rec, const GgmlTypeTraits& t, const std::string& who,
                              std::uint64_t at) const
    {
        const std::uint64_t ne0 = rec.ne.empty() ? 1 : rec.ne[0];
        if (ne0 % t.blockSize != 0)
            fail(at, who + " of type " + std::string(t.name) + " has ne[0] = " + std::to_string(ne0) +
                         ": expected a multiple of the block size " + std::to_string(t.blockSize));
        constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        std::uint64_t numel = 1, bytes = 0;
        bool overflow = __builtin_mul_overflow(ne0 / t.blockSize, std::uint64_t{t.blockBytes}, &bytes);
        for (std::uint64_t n : rec.ne)
            overflow |= __builtin_mul_overflow(numel, n, &numel) || numel > kMax;
        for (std::size_t d = 1; d < rec.ne.size(); ++d)
            overflow |= __builtin_mul_overflow(bytes, rec.ne[d], &bytes);
        if (overflow)
            fail(at, who + " has more elements or bytes than fit in 63 bits");
        return bytes;
    }

    void locateData()
    {
        const std::uint64_t end = r_.offset();
        h_.dataStart = (end + h_.alignment - 1) / h_.alignment * h_.alignment;
        const std::uint64_t size = bytes_.size();
        if (h_.records.empty())
            return;
        if (h_.dataStart > size)
            fail(end, "truncated: the data section should start at offset " + std::to_string(h_.dataStart) +
                          " but the file has " + std::to_string(size) + " bytes");
        const std::uint64_t dataBytes = size - h_.dataStart;
        for (std::size_t i = 0; i < h_.records.size(); ++i) {
            const auto& rec = h_.records[i];
            if (rec.relativeOffset > dataBytes || rec.nbytes > dataBytes - rec.relativeOffset)
                fail(offsetsAt_[i], "tensor \"" + rec.name + "\" data [" + std::to_string(rec.relativeOffset) + ", +" +
                                        std::to_string(rec.nbytes) + ") lies outside the data section of " +
                                        std::to_string(dataBytes) + " bytes (truncated file or bad offset)");
            h_.tensors[i].offset = h_.dataStart + rec.relativeOffset;
        }
        std::vector<std::size_t> order(h_.records.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return h_.records[a].relativeOffset < h_.records[b].relativeOffset;
        });
        const GgufTensorRecord* prev = nullptr;
        for (std::size_t i : order) {
            const auto& rec = h_.records[i];
            if (rec.nbytes == 0)
                continue;
            if (prev && prev->relativeOffset + prev->nbytes > rec.relativeOffset)
                fail(offsetsAt_[i], "tensor \"" + rec.name + "\" overlaps tensor \"" + prev->name + "\"");
            prev = &rec;
        }
    }

    std::span<const std::uint8_t> bytes_;
    std::string file_;
    ByteReader r_;
    GgufHeader h_;
    std::uint64_t tensorCount_ = 0;
    std::uint64_t kvCount_ = 0;
    std::uint64_t valueCount_ = 0;
    std::set<std::string> names_;
    std::map<std::string, std::uint64_t> valueAt_; // where each key's value starts
    std::vector<std::uint64_t> offsetsAt_;
};

} // namespace

GgufHeader parseGgufHeader(std::span<const std::uint8_t> fileBytes, const std::string& fileName)
{
    return HeaderParser(fileBytes, fileName).parse();
}

} // namespace qs::io
