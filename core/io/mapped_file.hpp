#pragma once
// A read-only memory map of a whole file. Opening costs no reads: pages come in on demand.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace qs::io {

class MappedFile {
public:
    // Throws NotFoundError if the file does not exist, FormatError if it cannot be mapped.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const noexcept { return data_; }
    std::uint64_t size() const noexcept { return size_; }
    std::span<const std::uint8_t> bytes() const noexcept { return {data_, static_cast<std::size_t>(size_)}; }
    const std::filesystem::path& path() const noexcept { return path_; }
    std::string name() const { return path_.string(); }

private:
    std::filesystem::path path_;
    const std::uint8_t* data_ = nullptr;
    std::uint64_t size_ = 0;
};

} // namespace qs::io
