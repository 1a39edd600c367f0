#include "core/export/gguf_writer.hpp"

#include "core/util/error.hpp"

#include <cstdio>
#include <cstring>
#include <memory>

namespace qs::exporting {

namespace {

using Bytes = std::vector<std::uint8_t>;
using VT = io::GgufValue::Type;

template <typename T>
void put(Bytes& b, T v)
{
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
}

void putString(Bytes& b, const std::string& s)
{
    put<std::uint64_t>(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}

std::uint64_t alignUp(std::uint64_t v, std::uint64_t a)
{
    return (v + a - 1) / a * a;
}

// The payload of a value (without its type tag), recursively for arrays.
void putValue(Bytes& b, const io::GgufValue& v)
{
    switch (v.type) {
    case VT::U8: put<std::uint8_t>(b, std::uint8_t(std::get<std::uint64_t>(v.value))); break;
    case VT::U16: put<std::uint16_t>(b, std::uint16_t(std::get<std::uint64_t>(v.value))); break;
    case VT::U32: put<std::uint32_t>(b, std::uint32_t(std::get<std::uint64_t>(v.value))); break;
    case VT::U64: put<std::uint64_t>(b, std::get<std::uint64_t>(v.value)); break;
    case VT::I8: put<std::int8_t>(b, std::int8_t(std::get<std::int64_t>(v.value))); break;
    case VT::I16: put<std::int16_t>(b, std::int16_t(std::get<std::int64_t>(v.value))); break;
    case VT::I32: put<std::int32_t>(b, std::int32_t(std::get<std::int64_t>(v.value))); break;
    case VT::I64: put<std::int64_t>(b, std::get<std::int64_t>(v.value)); break;
    case VT::F32: put<float>(b, float(std::get<double>(v.value))); break;
    case VT::F64: put<double>(b, std::get<double>(v.value)); break;
    case VT::Bool: put<std::uint8_t>(b, std::get<bool>(v.value) ? 1 : 0); break;
    case VT::String: putString(b, std::get<std::string>(v.value)); break;
    case VT::Array: {
        const auto& items = std::get<std::vector<io::GgufValue>>(v.value);
        put<std::uint32_t>(b, std::uint32_t(items.empty() ? VT::U8 : items.front().type));
        put<std::uint64_t>(b, items.size());
        for (const auto& item : items)
            putValue(b, item);
        break;
    }
    }
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

} // namespace

GgufFileWriter::GgufFileWriter(std::uint32_t alignment) : alignment_(alignment)
{
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
        throw Error("GGUF alignment must be a power of two, got " + std::to_string(alignment));
    if (alignment_ != 32)
        setU32("general.alignment", alignment_);
}

void GgufFileWriter::setRaw(const std::string& key, std::uint32_t type, Bytes payload)
{
    Bytes b;
    put<std::uint32_t>(b, type);
    b.insert(b.end(), payload.begin(), payload.end());
    for (auto& [k, v] : kv_)
        if (k == key) {
            v = std::move(b);
            return;
        }
    kv_.emplace_back(key, std::move(b));
}

bool GgufFileWriter::has(const std::string& key) const
{
    for (const auto& kv : kv_)
        if (kv.first == key)
            return true;
    return false;
}

void GgufFileWriter::setString(const std::string& key, const std::string& value)
{
    Bytes b;
    putString(b, value);
    setRaw(key, std::uint32_t(VT::String), std::move(b));
}

void GgufFileWriter::setU32(const std::string& key, std::uint32_t value)
{
    Bytes b;
    put(b, value);
    setRaw(key, std::uint32_t(VT::U32), std::move(b));
}

void GgufFileWriter::setI32(const std::string& key, std::int32_t value)
{
    Bytes b;
    put(b, value);
    setRaw(key, std::uint32_t(VT::I32), std::move(b));
}

void GgufFileWriter::setF32(const std::string& key, float value)
{
    Bytes b;
    put(b, value);
    setRaw(key, std::uint32_t(VT::F32), std::move(b));
}

void GgufFileWriter::setBool(const std::string& key, bool value)
{
    Bytes b;
    put<std::uint8_t>(b, value ? 1 : 0);
    setRaw(key, std::uint32_t(VT::Bool), std::move(b));
}

void GgufFileWriter::setStringArray(const std::string& key, const std::vector<std::string>& values)
{
    Bytes b;
    put<std::uint32_t>(b, std::uint32_t(VT::String));
    put<std::uint64_t>(b, values.size());
    for (const auto& s : values)
        putString(b, s);
    setRaw(key, std::uint32_t(VT::Array), std::move(b));
}

void GgufFileWriter::setI32Array(const std::string& key, const std::vector<std::int32_t>& values)
{
    Bytes b;
    put<std::uint32_t>(b, std::uint32_t(VT::I32));
    put<std::uint64_t>(b, values.size());
    for (auto v : values)
        put(b, v);
    setRaw(key, std::uint32_t(VT::Array), std::move(b));
}

void GgufFileWriter::setF32Array(const std::string& key, const std::vector<float>& values)
{
    Bytes b;
    put<std::uint32_t>(b, std::uint32_t(VT::F32));
    put<std::uint64_t>(b, values.size());
    for (auto v : values)
        put(b, v);
    setRaw(key, std::uint32_t(VT::Array), std::move(b));
}

void GgufFileWriter::setValue(const std::string& key, const io::GgufValue& value)
{
    Bytes b;
    putValue(b, value);
    setRaw(key, std::uint32_t(value.type), std::move(b));
}

void GgufFileWriter::addTensor(const std::string& name, const std::vector<std::int64_t>& shape, GgmlType type,
                               Producer produce)
{
    if (shape.empty() || shape.size() > 4)
        throw Error("GGUF tensor " + name + ": 1 to 4 dimensions, got " + std::to_string(shape.size()));
    for (const auto& t : tensors_)
        if (t.name == name)
            throw Error("GGUF tensor " + name + " added twice");
    Tensor t;
    t.name = name;
    t.type = type;
    t.ne.assign(shape.rbegin(), shape.rend());
    std::uint64_t rows = 1;
    for (std::size_t i = 1; i < t.ne.size(); ++i)
        rows *= t.ne[i];
    t.bytes = rows * ggmlRowBytes(type, std::int64_t(t.ne[0]));
    t.offset = alignUp(dataBytes_, alignment_);
    dataBytes_ = t.offset + t.bytes;
    t.produce = std::move(produce);
    tensors_.push_back(std::move(t));
}

Bytes GgufFileWriter::header() const
{
    Bytes b;
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    put<std::uint32_t>(b, 3);
    put<std::uint64_t>(b, tensors_.size());
    put<std::uint64_t>(b, kv_.size());
    for (const auto& [key, value] : kv_) {
        putString(b, key);
        b.insert(b.end(), value.begin(), value.end());
    }
    for (const auto& t : tensors_) {
        putString(b, t.name);
        put<std::uint32_t>(b, std::uint32_t(t.ne.size()));
        for (auto d : t.ne)
            put<std::uint64_t>(b, d);
        put<std::uint32_t>(b, std::uint32_t(t.type));
        put<std::uint64_t>(b, t.offset);
    }
    b.resize(alignUp(b.size(), alignment_), 0);
    return b;
}

std::uint64_t GgufFileWriter::fileBytes() const
{
    return header().size() + dataBytes_;
}

void GgufFileWriter::write(const std::filesystem::path& file, jobs::Progress* progress, const std::string& label) const
{
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(file.c_str(), "wb"));
    if (!f)
        throw Error(file.string() + ": cannot create: " + std::strerror(errno));
    auto writeBytes = [&](const void* p, std::size_t n) {
        if (n && std::fwrite(p, 1, n, f.get()) != n)
            throw Error(file.string() + ": write failed: " + std::strerror(errno));
    };
    const Bytes head = header();
    writeBytes(head.data(), head.size());
    std::uint64_t pos = 0;
    const Bytes zeros(alignment_, 0);
    if (progress)
        progress->beginStage("writing " + (label.empty() ? file.filename().string() : label));
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
        const Tensor& t = tensors_[i];
        if (progress)
            progress->report(double(i) / double(tensors_.size()));
        writeBytes(zeros.data(), std::size_t(t.offset - pos));
        const Bytes data = t.produce();
        if (data.size() != t.bytes)
            throw Error(file.string() + ": tensor " + t.name + " produced " + std::to_string(data.size()) +
                        " bytes, its " + std::string(ggmlTypeName(t.type)) + " shape needs " + std::to_string(t.bytes));
        writeBytes(data.data(), data.size());
        pos = t.offset + t.bytes;
    }
    if (std::fflush(f.get()) != 0)
        throw Error(file.string() + ": write failed: " + std::strerror(errno));
    std::FILE* raw = f.release();
    if (std::fclose(raw) != 0)
        throw Error(file.string() + ": close failed: " + std::strerror(errno));
    if (progress)
        progress->report(1.0);
}

} // namespace qs::exporting
