#pragma once
// UTF-8 helpers for the tokenizer: validation with U+FFFD replacement, code point iteration,
// Unicode White_Space, and GPT-2's byte <-> printable-character map.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace qs::io::unicode {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid there.
std::size_t validSequenceLength(std::string_view s, std::size_t i);

bool isValidUtf8(std::string_view s);

// Invalid sequences become U+FFFD, one per maximal subpart (the Unicode/WHATWG practice that
// Rust's from_utf8_lossy and Python's errors="replace" follow).
std::string toValidUtf8(std::string_view s);

// Decode the code point at s[i] (s valid UTF-8); advances i.
char32_t next(std::string_view s, std::size_t& i);
void append(std::string& out, char32_t cp);
// Byte length of the character starting with byte b (valid UTF-8).
inline std::size_t charLength(unsigned char b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

// Rust's char::is_whitespace (the White_Space property).
bool isWhitespace(char32_t cp);

// GPT-2's bytes_to_unicode: every byte to a printable character, as UTF-8.
const std::array<std::string, 256>& byteToUnicode();
// The inverse: code point -> byte, or -1 for characters outside the map.
int unicodeToByte(char32_t cp);

} // namespace qs::io::unicode
