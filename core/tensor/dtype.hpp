#pragma once
// Element types of stored tensors (safetensors names) and their conversion to f32.
// Raw bytes are little-endian as every supported file format stores them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace qs {

enum class DType {
    F32, F16, BF16, F64,
    I8, U8, I16, I32, I64,
    Bool,
    F8_E4M3, // OCP e4m3fn: bias 7, no infinities, 0x7f/0xff are NaN, max 448
    F8_E5M2, // OCP e5m2: bias 15, IEEE-like infinities and NaNs, max 57344
};

// The safetensors spelling: "F32", "BF16", "F8_E4M3", "BOOL", ...
std::string_view dtypeName(DType t);
// Parses a safetensors dtype name; nullopt for anything unknown (including U16/U32/U64, which
// safetensors allows but no checkpoint we read uses, and F8_E8M0/F4 exotic types).
std::optional<DType> dtypeFromName(std::string_view name);
// Bytes per element.
std::size_t dtypeSize(DType t);

// Scalar decoders; exact (every value of these formats is representable in f32, except F64
// and the large integers, which are rounded to nearest).
float halfToF32(std::uint16_t bits);
float bfloat16ToF32(std::uint16_t bits);
float fp8E4M3ToF32(std::uint8_t bits);
float fp8E5M2ToF32(std::uint8_t bits);

// Converts src (count * dtypeSize(t) bytes, any alignment) to dst (count floats).
// Precondition (checked by the caller, asserted here): src.size() == dst.size() * dtypeSize(t).
void convertToF32(DType t, std::span<const std::uint8_t> src, std::span<float> dst);

} // namespace qs
