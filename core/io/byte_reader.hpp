#pragma once
// Bounds-checked little-endian reads from untrusted bytes. Every failure is a FormatError
// naming the file, the offset and what was expected; nothing is allocated from a length
// until that length has been checked against the bytes that remain.
#include "core/util/error.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace qs::io {

class ByteReader {
public:
    ByteReader(std::span<const std::uint8_t> bytes, std::string file, std::uint64_t base = 0)
        : bytes_(bytes), file_(std::move(file)), base_(base) {}

    std::uint64_t offset() const noexcept { return base_ + pos_; }
    std::uint64_t remaining() const noexcept { return bytes_.size() - pos_; }
    const std::string& file() const noexcept { return file_; }

    template <typename T>
    T read(const char* what)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        require(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::span<const std::uint8_t> take(std::uint64_t n, const char* what)
    {
        require(n, what);
        auto s = bytes_.subspan(pos_, static_cast<std::size_t>(n));
        pos_ += n;
        return s;
    }

    std::string_view takeString(std::uint64_t n, const char* what)
    {
        auto s = take(n, what);
        return {reinterpret_cast<const char*>(s.data()), s.size()};
    }

    void seek(std::uint64_t absoluteOffset, const char* what)
    {
        if (absoluteOffset < base_ || absoluteOffset - base_ > bytes_.size())
            fail(what + std::string(": offset out of range"));
        pos_ = absoluteOffset - base_;
    }

    [[noreturn]] void fail(const std::string& detail) const { throw FormatError(file_, offset(), detail); }

    void require(std::uint64_t n, const char* what) const
    {
        if (n > remaining())
            fail(std::string("truncated: expected ") + what + " (" + std::to_string(n) + " bytes), " +
                 std::to_string(remaining()) + " bytes left");
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::string file_;
    std::uint64_t base_ = 0;
    std::uint64_t pos_ = 0;
};

} // namespace qs::io
