#include "core/io/safetensors_writer.hpp"

#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace qs::io {

namespace {
constexpr std::uint64_t kAlign = 8;
std::uint64_t padded(std::uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
} // namespace

// Tensors are contiguous (the reference loader rejects gaps); wider element types come first,
// as the reference writer orders them, so every tensor starts aligned to its element size.
std::vector<const SafetensorsWriter::Entry*> SafetensorsWriter::ordered() const
{
    std::vector<const Entry*> order;
    for (const auto& t : tensors_)
        order.push_back(&t);
    std::stable_sort(order.begin(), order.end(),
                     [](const Entry* a, const Entry* b) { return dtypeSize(a->dtype) > dtypeSize(b->dtype); });
    return order;
}

void SafetensorsWriter::add(const std::string& name, DType dtype, Shape shape, std::vector<std::uint8_t> bytes)
{
    if (name.empty() || name == "__metadata__")
        throw Error("safetensors writer: invalid tensor name '" + name + "'");
    if (std::any_of(tensors_.begin(), tensors_.end(), [&](const Entry& e) { return e.name == name; }))
        throw Error("safetensors writer: tensor '" + name + "' added twice");
    for (auto d : shape)
        if (d < 0)
            throw Error("safetensors writer: tensor '" + name + "' has a negative dimension");
    const auto expected = std::uint64_t(numelOf(shape)) * dtypeSize(dtype);
    if (bytes.size() != expected)
        throw Error("safetensors writer: tensor '" + name + "' " + shapeToString(shape) + " " +
                    std::string(dtypeName(dtype)) + " needs " + std::to_string(expected) + " bytes, got " +
                    std::to_string(bytes.size()));
    tensors_.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

std::string SafetensorsWriter::headerText() const
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty())
        header["__metadata__"] = metadata_;
    std::uint64_t offset = 0;
    for (const Entry* t : ordered()) {
        const std::uint64_t end = offset + t->bytes.size();
        header[t->name] = {{"dtype", std::string(dtypeName(t->dtype))}, {"shape", t->shape}, {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string text = header.dump();
    text.append(padded(text.size()) - text.size(), ' ');
    return text;
}

std::uint64_t SafetensorsWriter::byteSize() const
{
    std::uint64_t data = 0;
    for (const auto& t : tensors_)
        data += t.bytes.size();
    return 8 + headerText().size() + data;
}

void SafetensorsWriter::writeTo(std::ostream& out, const std::function<void(double)>& onTensor) const
{
    const std::string header = headerText();
    char prefix[8];
    for (int i = 0; i < 8; ++i)
        prefix[i] = char((std::uint64_t(header.size()) >> (8 * i)) & 0xff);
    out.write(prefix, 8);
    out.write(header.data(), std::streamsize(header.size()));
    std::uint64_t total = 0, done = 0;
    for (const auto& t : tensors_)
        total += t.bytes.size();
    for (const Entry* t : ordered()) {
        if (!t->bytes.empty())
            out.write(reinterpret_cast<const char*>(t->bytes.data()), std::streamsize(t->bytes.size()));
        done += t->bytes.size();
        if (onTensor)
            onTensor(total ? double(done) / double(total) : 1.0);
    }
    if (!out)
        throw Error("safetensors writer: the output stream failed");
}

} // namespace qs::io
