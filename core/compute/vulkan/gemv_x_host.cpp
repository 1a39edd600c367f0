// X for the packed-f16 int4 GEMV, made on the host as it goes up (gemv.comp X_F16 reads it):
// the values of to_half.comp with PAIRS, without its dispatch and barrier on the GPU.
#include "core/compute/vulkan/vulkan_backend_impl.hpp"

#include <Eigen/Core>

namespace qs::compute::vkb {

void gemvHalfPairs(const float* x, std::size_t count, float scale, std::uint16_t* out)
{
    // Each 8 values x0..x7 as (x0, x4), (x1, x5), (x2, x6), (x3, x7), each pair low half first;
    // round to nearest even, as the GPU's conversion.
    for (std::size_t g = 0; g + 8 <= count; g += 8)
        for (std::size_t i = 0; i < 4; ++i) {
            out[g + 2 * i] = Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(x[g + i] * scale));
            out[g + 2 * i + 1] = Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(x[g + i + 4] * scale));
        }
}

} // namespace qs::compute::vkb
