#pragma once
// Raw (undecoded) tensor bytes of a safetensors checkpoint, for tensors that must not pass
// through f32: packed int32 words, uint8 codes, int8 weights. Checks dtype and shape against
// what the caller expects and names the file and tensor when they differ.
#include "core/io/checkpoint.hpp"
#include "core/io/mapped_file.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/thread_pool.hpp"

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qs::io {

class RawTensorReader {
public:
    explicit RawTensorReader(const Checkpoint& checkpoint) : ck_(checkpoint) {}

    bool has(const std::string& name) const { return ck_.find(name) != nullptr; }

    // The tensor's bytes after checking its dtype is one of `dtypes` and, when given, its shape.
    std::vector<std::uint8_t> bytes(const std::string& name, std::initializer_list<DType> dtypes,
                                    const std::optional<Shape>& shape = std::nullopt) const;

    template <typename T>
    std::vector<T> array(const std::string& name, DType dtype, const std::optional<Shape>& shape = std::nullopt) const
    {
        const auto b = bytes(name, {dtype}, shape);
        std::vector<T> out(b.size() / sizeof(T));
        if (!b.empty())
            parallelCopy(out.data(), b.data(), out.size() * sizeof(T)); // a 7B checkpoint is 13 GB of pages
        return out;
    }

    const TensorInfo& info(const std::string& name) const; // throws NotFoundError naming the file
    const Checkpoint& checkpoint() const { return ck_; }

private:
    const MappedFile& mapped(const std::string& file) const;
    const Checkpoint& ck_;
    mutable std::map<std::string, std::unique_ptr<MappedFile>> files_;
};

} // namespace qs::io
