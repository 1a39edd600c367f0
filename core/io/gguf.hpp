#pragma once
// GGUF v2/v3 reader: metadata first (all value types and arrays), tensor infos, alignment;
// tensor data dequantized to f32 on demand following ggml's block layouts.
#include "core/io/checkpoint.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/arch_spec.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace qs::io {

class MappedFile;

// One metadata value. Arrays hold values of a single element type (GGUF allows nesting).
struct GgufValue {
    enum class Type : std::uint32_t {
        U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8,
        Array = 9, U64 = 10, I64 = 11, F64 = 12
    };
    Type type = Type::U8;
    std::variant<std::uint64_t, std::int64_t, double, bool, std::string, std::vector<GgufValue>> value;

    std::string toString(std::size_t maxArrayItems = 8) const; // for display
};

class GgufCheckpoint : public Checkpoint {
public:
    explicit GgufCheckpoint(const std::filesystem::path& file); // throws FormatError/NotFoundError
    ~GgufCheckpoint() override;

    std::string format() const override { return "gguf"; }
    const std::filesystem::path& path() const override;
    const std::vector<TensorInfo>& tensors() const override;
    Tensor readF32(const std::string& name) const override;
    std::map<std::string, std::string> metadata() const override;

    std::uint32_t version() const;
    std::uint64_t alignment() const;
    const std::map<std::string, GgufValue>& values() const;

    model::ArchSpec archSpec() const;          // from general.architecture and <arch>.* keys
    bool hasTokenizer() const;                 // tokenizer.ggml.model present
    TokenizerSpec tokenizerSpec() const;       // from tokenizer.ggml.*; throws FormatError

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

inline std::unique_ptr<Checkpoint> openGguf(const std::filesystem::path& file)
{
    return std::make_unique<GgufCheckpoint>(file);
}

} // namespace qs::io
