#include "core/io/gguf.hpp"

#include "core/io/gguf_dequant.hpp"
#include "core/io/gguf_parser.hpp"
#include "core/io/gguf_specs.hpp"
#include "core/io/gguf_types.hpp"
#include "core/io/mapped_file.hpp"
#include "core/util/error.hpp"

namespace qs::io {

struct GgufCheckpoint::Impl {
    std::filesystem::path path;
    std::unique_ptr<MappedFile> file;
    GgufHeader header;
};

GgufCheckpoint::GgufCheckpoint(const std::filesystem::path& file) : impl_(std::make_unique<Impl>())
{
    impl_->path = file;
    impl_->file = std::make_unique<MappedFile>(file);
    // Only the header pages are touched here; tensor data is read by readF32.
    impl_->header = parseGgufHeader(impl_->file->bytes(), impl_->file->name());
}

GgufCheckpoint::~GgufCheckpoint() = default;

const std::filesystem::path& GgufCheckpoint::path() const { return impl_->path; }
const std::vector<TensorInfo>& GgufCheckpoint::tensors() const { return impl_->header.tensors; }
std::uint32_t GgufCheckpoint::version() const { return impl_->header.version; }
std::uint64_t GgufCheckpoint::alignment() const { return impl_->header.alignment; }
const std::map<std::string, GgufValue>& GgufCheckpoint::values() const { return impl_->header.values; }

Tensor GgufCheckpoint::readF32(const std::string& name) const
{
    const auto& h = impl_->header;
    for (std::size_t i = 0; i < h.tensors.size(); ++i) {
        const TensorInfo& info = h.tensors[i];
        if (info.name != name)
            continue;
        const GgufTensorRecord& rec = h.records[i];
        if (!ggmlCanDequantize(rec.type))
            throw FormatError(impl_->file->name(), info.offset,
                              "tensor \"" + name + "\" has ggml type " + std::to_string(rec.type) + " (" + info.dtype +
                                  "), which cannot be converted to f32 yet");
        Tensor t;
        t.shape = info.shape;
        // The header parser checked the extent against the file, so numel is bounded by the
        // file's size times the largest expansion of a decodable block format (Q2_K: 3x).
        t.data.resize(static_cast<std::size_t>(info.numel()));
        const auto bytes = impl_->file->bytes().subspan(static_cast<std::size_t>(info.offset),
                                                        static_cast<std::size_t>(info.nbytes));
        dequantizeGgml(rec.type, bytes, t.data);
        return t;
    }
    throw NotFoundError(impl_->file->name() + ": no tensor named \"" + name + "\"");
}

std::map<std::string, std::string> GgufCheckpoint::metadata() const
{
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : impl_->header.values)
        out.emplace(key, value.toString());
    return out;
}

model::ArchSpec GgufCheckpoint::archSpec() const
{
    return gguf::archSpecFrom(impl_->header.values, impl_->header.tensors, impl_->file->name());
}

bool GgufCheckpoint::hasTokenizer() const { return impl_->header.values.count("tokenizer.ggml.model") > 0; }

TokenizerSpec GgufCheckpoint::tokenizerSpec() const
{
    return gguf::tokenizerSpecFrom(impl_->header.values, impl_->file->name());
}

} // namespace qs::io
