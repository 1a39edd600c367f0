#include "core/tensor/tensor.hpp"

namespace qs {

std::string shapeToString(const Shape& shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

} // namespace qs
