#pragma once
// safetensors reader: memory-mapped and lazy; a single file, a folder with one
// model.safetensors or *.safetensors files, or a sharded folder (model.safetensors.index.json).
// The header is validated against the file at open; tensor data is touched only by readF32.
#include "core/io/checkpoint.hpp"

#include <filesystem>
#include <memory>

namespace qs::io {

std::unique_ptr<Checkpoint> openSafetensors(const std::filesystem::path& fileOrFolder);

} // namespace qs::io
