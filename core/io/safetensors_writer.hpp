#pragma once
// safetensors writer: the header padded with spaces to a multiple of 8 and the tensors
// contiguous, widest element type first (as the reference writer lays them out, so each
// tensor is aligned to its element size), "__metadata__" as string pairs. Tensor bytes are held in memory
// until written; byteSize() tells the caller how much room the file needs before writing.
#include "core/tensor/dtype.hpp"
#include "core/tensor/tensor.hpp"

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace qs::io {

class SafetensorsWriter {
public:
    // Throws qs::Error for a duplicate name, an empty name, a negative dimension or bytes that
    // do not match shape x dtype size.
    void add(const std::string& name, DType dtype, Shape shape, std::vector<std::uint8_t> bytes);

    template <typename T>
    void addArray(const std::string& name, DType dtype, Shape shape, const std::vector<T>& values)
    {
        std::vector<std::uint8_t> bytes(values.size() * sizeof(T));
        if (!bytes.empty())
            std::memcpy(bytes.data(), values.data(), bytes.size());
        add(name, dtype, std::move(shape), std::move(bytes));
    }

    void setMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    std::size_t tensorCount() const { return tensors_.size(); }
    std::uint64_t byteSize() const;  // the whole file
    std::string headerText() const;  // the JSON, padded

    // Writes the whole file; throws qs::Error when the stream fails. onTensor (when given) is
    // called with the fraction of data bytes written after each tensor and may throw to stop.
    void writeTo(std::ostream& out, const std::function<void(double)>& onTensor = {}) const;

private:
    struct Entry {
        std::string name;
        DType dtype;
        Shape shape;
        std::vector<std::uint8_t> bytes;
    };
    std::vector<const Entry*> ordered() const;
    std::vector<Entry> tensors_;
    std::map<std::string, std::string> metadata_;
};

} // namespace qs::io
