#pragma once
// A dense f32 tensor in row-major order: what readers hand out after converting on demand.
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace qs {

using Shape = std::vector<std::int64_t>;

inline std::int64_t numelOf(const Shape& shape)
{
    return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string shapeToString(const Shape& shape); // "[4096, 11008]"

struct Tensor {
    Shape shape;
    std::vector<float> data;

    std::int64_t numel() const { return numelOf(shape); }
};

} // namespace qs
