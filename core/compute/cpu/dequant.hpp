#pragma once
// Scalar reference dequantization: the definition every kernel is checked against.
#include "core/compute/weight_formats.hpp"

namespace qs::compute {

// Writes rows [n0, n1) of dequant(w) to out[(n1 - n0)][K]. Precondition: validate(w) passed,
// 0 <= n0 <= n1 <= N.
void dequantRows(const WeightMatrix& w, int n0, int n1, float* out);

// Code k of a row in the packed bit stream layout (weight_formats.hpp).
inline std::uint32_t packedCode(const std::uint32_t* row, std::size_t k, int bits)
{
    const std::size_t bit = k * std::size_t(bits);
    const std::size_t word = bit >> 5;
    const unsigned shift = unsigned(bit & 31);
    std::uint64_t v = row[word] >> shift;
    if (shift + unsigned(bits) > 32)
        v |= std::uint64_t(row[word + 1]) << (32 - shift);
    return std::uint32_t(v) & ((1u << bits) - 1u);
}

} // namespace qs::compute
