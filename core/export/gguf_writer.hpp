#pragma once
// GGUF v3 file writer: metadata key/values in insertion order, tensor infos, tensor data aligned
// to `alignment` (32, ggml's default). Tensor data is produced on demand while writing, one
// tensor at a time, so a model never has to be held quantized in memory as a whole.
#include "core/export/ggml_quantize.hpp"
#include "core/io/gguf.hpp"
#include "core/jobs/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace qs::exporting {

class GgufFileWriter {
public:
    using Producer = std::function<std::vector<std::uint8_t>()>;

    explicit GgufFileWriter(std::uint32_t alignment = 32);

    void setString(const std::string& key, const std::string& value);
    void setU32(const std::string& key, std::uint32_t value);
    void setI32(const std::string& key, std::int32_t value);
    void setF32(const std::string& key, float value);
    void setBool(const std::string& key, bool value);
    void setStringArray(const std::string& key, const std::vector<std::string>& values);
    void setI32Array(const std::string& key, const std::vector<std::int32_t>& values);
    void setF32Array(const std::string& key, const std::vector<float>& values);
    void setValue(const std::string& key, const io::GgufValue& value); // copied from another file
    bool has(const std::string& key) const;

    // shape row-major as the project's tensors are ([rows][cols]; written innermost first as GGUF
    // wants). produce() must return exactly the tensor's byte size for `type`.
    void addTensor(const std::string& name, const std::vector<std::int64_t>& shape, GgmlType type, Producer produce);

    std::size_t tensorCount() const { return tensors_.size(); }
    std::uint64_t fileBytes() const; // the exact size write() produces

    // Writes the file; throws qs::Error naming it on any I/O failure (a full disk included) or a
    // producer returning the wrong size; jobs::Cancelled between tensors.
    // label names the file in progress (the target rather than the temporary).
    void write(const std::filesystem::path& file, jobs::Progress* progress = nullptr, const std::string& label = {}) const;

private:
    struct Tensor {
        std::string name;
        std::vector<std::uint64_t> ne; // innermost first
        GgmlType type;
        std::uint64_t bytes = 0;
        std::uint64_t offset = 0; // within the data section
        Producer produce;
    };
    std::vector<std::uint8_t> header() const;
    void setRaw(const std::string& key, std::uint32_t type, std::vector<std::uint8_t> payload);

    std::uint32_t alignment_;
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> kv_; // key -> type + payload
    std::vector<Tensor> tensors_;
    std::uint64_t dataBytes_ = 0;
};

} // namespace qs::exporting
