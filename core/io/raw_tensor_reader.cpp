#include "core/io/raw_tensor_reader.hpp"

#include "core/util/error.hpp"

namespace qs::io {

const TensorInfo& RawTensorReader::info(const std::string& name) const
{
    const TensorInfo* t = ck_.find(name);
    if (!t)
        throw NotFoundError(ck_.path().string() + ": missing tensor " + name);
    return *t;
}

const MappedFile& RawTensorReader::mapped(const std::string& file) const
{
    auto& slot = files_[file];
    if (!slot)
        slot = std::make_unique<MappedFile>(file);
    return *slot;
}

std::vector<std::uint8_t> RawTensorReader::bytes(const std::string& name, std::initializer_list<DType> dtypes,
                                                 const std::optional<Shape>& shape) const
{
    if (ck_.format() != "safetensors")
        throw FormatError(ck_.path().string(), "tensor " + name + ": raw reads need a safetensors checkpoint");
    const TensorInfo& t = info(name);
    const auto dtype = dtypeFromName(t.dtype);
    bool dtypeOk = false;
    std::string wanted;
    for (DType d : dtypes) {
        dtypeOk = dtypeOk || (dtype && *dtype == d);
        wanted += (wanted.empty() ? "" : " or ") + std::string(dtypeName(d));
    }
    if (!dtypeOk)
        throw FormatError(t.file, t.offset, "tensor " + name + " has dtype " + t.dtype + ", expected " + wanted);
    if (shape && *shape != t.shape)
        throw FormatError(t.file, t.offset,
                          "tensor " + name + " has shape " + shapeToString(t.shape) + ", expected " + shapeToString(*shape));
    const MappedFile& f = mapped(t.file);
    if (t.offset > f.size() || t.nbytes > f.size() - t.offset ||
        t.nbytes != std::uint64_t(t.numel()) * dtypeSize(*dtype))
        throw FormatError(t.file, t.offset, "tensor " + name + " lies outside its file");
    return std::vector<std::uint8_t>(f.data() + t.offset, f.data() + t.offset + t.nbytes);
}

} // namespace qs::io
