#pragma once
// The format-independent view of a checkpoint: tensor infos (read at open, no tensor data)
// and tensor data converted to f32 on demand. One implementation per format in core/io.
#include "core/tensor/tensor.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qs::io {

struct TensorInfo {
    std::string name;
    Shape shape;
    std::string dtype;        // as the file names it: "BF16", "F8_E4M3", "Q4_K", ...
    std::uint64_t nbytes = 0; // bytes the tensor occupies in its file
    std::string file;         // the file that holds it (a shard for sharded checkpoints)
    std::uint64_t offset = 0; // absolute byte offset of its data in that file

    std::int64_t numel() const { return numelOf(shape); }
};

class Checkpoint {
public:
    virtual ~Checkpoint() = default;

    virtual std::string format() const = 0;               // "safetensors" or "gguf"
    virtual const std::filesystem::path& path() const = 0; // the folder or file opened
    virtual const std::vector<TensorInfo>& tensors() const = 0;

    // Converts the named tensor's data to f32. Throws NotFoundError for an unknown name and
    // FormatError for data that cannot be decoded.
    virtual Tensor readF32(const std::string& name) const = 0;

    // Free-form metadata (safetensors "__metadata__", GGUF key/values rendered as text).
    virtual std::map<std::string, std::string> metadata() const { return {}; }

    const TensorInfo* find(const std::string& name) const;
    std::uint64_t totalBytes() const;
    std::int64_t totalParameters() const;
};

} // namespace qs::io
