#include "core/compute/backend.hpp"

#include <cmath>

namespace qs::compute {

void validateEdges(std::span<const float> edges)
{
    if (edges.size() < 2 || edges.size() > 65537)
        throw ComputeError("histogram: need 2..65537 bin edges, got " + std::to_string(edges.size()));
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (!std::isfinite(edges[i]))
            throw ComputeError("histogram: edge " + std::to_string(i) + " is not finite");
        if (i > 0 && !(edges[i] > edges[i - 1]))
            throw ComputeError("histogram: edges must increase strictly (at " + std::to_string(i) + ")");
    }
}

void Backend::dequantGemm(const float* x, int m, const WeightMatrix& w, float* y)
{
    // Aliasing pointer with no ownership: the prepared object dies before this call returns.
    auto p = prepare(std::shared_ptr<const WeightMatrix>(&w, [](const WeightMatrix*) {}));
    dequantGemm(x, m, *p, y);
}

} // namespace qs::compute
