#pragma once
// One exception type per domain. Every message names the file (and offset) at fault.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace qs {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace io {

// Malformed or unreadable input: names the file, the byte offset when known, and what was
// expected there. what() is one line: "FILE: at offset N: DETAIL".
class FormatError : public Error {
public:
    FormatError(std::string file, std::optional<std::uint64_t> offset, std::string detail);
    FormatError(std::string file, std::string detail) : FormatError(std::move(file), std::nullopt, std::move(detail)) {}

    const std::string& file() const noexcept { return file_; }
    std::optional<std::uint64_t> offset() const noexcept { return offset_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    std::string file_;
    std::optional<std::uint64_t> offset_;
    std::string detail_;
};

// A model, file or tensor that does not exist.
class NotFoundError : public Error {
public:
    using Error::Error;
};

} // namespace io
} // namespace qs
