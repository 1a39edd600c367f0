#include "core/tensor/dtype.hpp"

#include "core/util/error.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace qs {

namespace {

struct DTypeRow {
    DType type;
    std::string_view name;
    std::size_t size;
};

constexpr std::array<DTypeRow, 12> kDTypes{{
    {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8},
    {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},
    {DType::I16, "I16", 2},
    {DType::I32, "I32", 4},
    {DType::I64, "I64", 8},
    {DType::Bool, "BOOL", 1},
    {DType::F8_E4M3, "F8_E4M3", 1},
    {DType::F8_E5M2, "F8_E5M2", 1},
}};

const DTypeRow& rowOf(DType t)
{
    for (const auto& r : kDTypes)
        if (r.type == t)
            return r;
    throw Error("unknown DType value " + std::to_string(static_cast<int>(t)));
}

// Decodes a small float with the given exponent/mantissa widths. Used only to fill the
// 256-entry FP8 tables once, so clarity beats speed here.
float decodeMinifloat(std::uint8_t bits, int expBits, int mantBits, int bias, bool ieeeSpecials)
{
    const bool negative = bits & 0x80;
    const int exp = (bits >> mantBits) & ((1 << expBits) - 1);
    const int mant = bits & ((1 << mantBits) - 1);
    const int expMax = (1 << expBits) - 1;
    float v;
    if (ieeeSpecials && exp == expMax) {
        v = mant == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    } else if (!ieeeSpecials && exp == expMax && mant == (1 << mantBits) - 1) {
        v = std::numeric_limits<float>::quiet_NaN(); // e4m3fn: only S.1111.111 is NaN
    } else if (exp == 0) {
        v = std::ldexp(static_cast<float>(mant), 1 - bias - mantBits); // subnormal
    } else {
        v = std::ldexp(static_cast<float>(mant + (1 << mantBits)), exp - bias - mantBits);
    }
    return negative ? -v : v;
}

using Fp8Table = std::array<float, 256>;

const Fp8Table& e4m3Table()
{
    static const Fp8Table table = [] {
        Fp8Table t{};
        for (int i = 0; i < 256; ++i)
            t[i] = decodeMinifloat(static_cast<std::uint8_t>(i), 4, 3, 7, false);
        return t;
    }();
    return table;
}

const Fp8Table& e5m2Table()
{
    static const Fp8Table table = [] {
        Fp8Table t{};
        for (int i = 0; i < 256; ++i)
            t[i] = decodeMinifloat(static_cast<std::uint8_t>(i), 5, 2, 15, true);
        return t;
    }();
    return table;
}

template <typename T>
T loadLE(const std::uint8_t* p)
{
    static_assert(std::endian::native == std::endian::little, "big-endian hosts are not supported");
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <typename T, typename Decode>
void convertEach(std::span<const std::uint8_t> src, std::span<float> dst, Decode decode)
{
    const std::uint8_t* p = src.data();
    for (std::size_t i = 0; i < dst.size(); ++i, p += sizeof(T))
        dst[i] = decode(loadLE<T>(p));
}

} // namespace

std::string_view dtypeName(DType t) { return rowOf(t).name; }

std::size_t dtypeSize(DType t) { return rowOf(t).size; }

std::optional<DType> dtypeFromName(std::string_view name)
{
    for (const auto& r : kDTypes)
        if (r.name == name)
            return r.type;
    return std::nullopt;
}

float halfToF32(std::uint16_t h)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13); // inf or NaN (payload kept)
    } else if (exp != 0) {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign; // signed zero
    } else {
        // Subnormal half: normalise the mantissa into an f32 normal.
        int e = -1;
        do {
            ++e;
            mant <<= 1;
        } while ((mant & 0x400u) == 0);
        bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | ((mant & 0x3ffu) << 13);
    }
    return std::bit_cast<float>(bits);
}

float bfloat16ToF32(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

float fp8E4M3ToF32(std::uint8_t bits) { return e4m3Table()[bits]; }

float fp8E5M2ToF32(std::uint8_t bits) { return e5m2Table()[bits]; }

void convertToF32(DType t, std::span<const std::uint8_t> src, std::span<float> dst)
{
    if (src.size() / dtypeSize(t) != dst.size() || src.size() % dtypeSize(t) != 0)
        throw Error("convertToF32: " + std::to_string(src.size()) + " bytes of " + std::string(dtypeName(t)) +
                    " do not make " + std::to_string(dst.size()) + " elements");
    if (dst.empty())
        return; // empty tensors may come with null data pointers, which memcpy must not see
    switch (t) {
    case DType::F32:
        std::memcpy(dst.data(), src.data(), src.size());
        return;
    case DType::F16:
        return convertEach<std::uint16_t>(src, dst, halfToF32);
    case DType::BF16:
        return convertEach<std::uint16_t>(src, dst, bfloat16ToF32);
    case DType::F64:
        return convertEach<double>(src, dst, [](double v) { return static_cast<float>(v); });
    case DType::I8:
        return convertEach<std::int8_t>(src, dst, [](std::int8_t v) { return static_cast<float>(v); });
    case DType::U8:
        return convertEach<std::uint8_t>(src, dst, [](std::uint8_t v) { return static_cast<float>(v); });
    case DType::I16:
        return convertEach<std::int16_t>(src, dst, [](std::int16_t v) { return static_cast<float>(v); });
    case DType::I32:
        return convertEach<std::int32_t>(src, dst, [](std::int32_t v) { return static_cast<float>(v); });
    case DType::I64:
        return convertEach<std::int64_t>(src, dst, [](std::int64_t v) { return static_cast<float>(v); });
    case DType::Bool:
        // Any non-zero byte is true; safetensors writes 0/1 but we do not trust it.
        return convertEach<std::uint8_t>(src, dst, [](std::uint8_t v) { return v ? 1.0f : 0.0f; });
    case DType::F8_E4M3: {
        const auto& table = e4m3Table();
        return convertEach<std::uint8_t>(src, dst, [&](std::uint8_t v) { return table[v]; });
    }
    case DType::F8_E5M2: {
        const auto& table = e5m2Table();
        return convertEach<std::uint8_t>(src, dst, [&](std::uint8_t v) { return table[v]; });
    }
    }
    throw Error("convertToF32: unknown DType");
}

} // namespace qs
