#pragma once
// Internal to core/compute/vulkan: size arithmetic for splitting work across bindings.
#include <cstdint>
#include <initializer_list>
#include <numeric>

namespace qs::compute::vk {

inline std::uint64_t roundUp4(std::uint64_t v) { return (v + 3) & ~std::uint64_t(3); }
inline std::uint64_t floorTo(std::uint64_t v, std::uint64_t g) { return g ? v / g * g : v; }
inline std::uint32_t ceilDiv(std::uint64_t a, std::uint64_t b) { return std::uint32_t((a + b - 1) / b); }

// Vulkan splits need every bound offset aligned: the smallest row count g such that
// g * bytesPerRow is a multiple of the alignment for every per-row array.
inline std::uint64_t rowGranularity(std::uint64_t align, std::initializer_list<std::uint64_t> rowBytes)
{
    std::uint64_t g = 1;
    for (auto b : rowBytes)
        if (b)
            g = std::lcm(g, align / std::gcd(align, b));
    return g;
}

} // namespace qs::compute::vk
