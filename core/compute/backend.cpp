#include "core/compute/backend.hpp"

#include <algorithm>
#include <cmath>
#include <string>

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

double AttentionShape::flops() const
{
    // Query t sees keys - queries + t + 1 keys; a score and its share of the output are 2 D each.
    const double visible = double(queries) * (double(keys) - double(queries)) + double(queries) * (double(queries) + 1) / 2;
    return 4.0 * double(headDim) * double(heads) * double(samples) * visible;
}

void checkAttentionArgs(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out)
{
    const auto shape = [&] {
        return std::to_string(s.samples) + " samples, " + std::to_string(s.queries) + " queries, " + std::to_string(s.keys) +
               " keys, " + std::to_string(s.heads) + "/" + std::to_string(s.kvHeads) + " heads of " + std::to_string(s.headDim);
    };
    if (s.samples <= 0 || s.queries <= 0 || s.keys <= 0 || s.heads <= 0 || s.kvHeads <= 0 || s.headDim <= 0)
        throw ComputeError("attention: bad shape (" + shape() + ")");
    if (s.keys < s.queries)
        throw ComputeError("attention: fewer keys than queries (" + shape() + ")");
    if (s.heads % s.kvHeads != 0)
        throw ComputeError("attention: heads must be a multiple of kvHeads (" + shape() + ")");
    const double rows = double(s.samples) * double(std::max(s.queries, s.keys));
    if (rows * double(std::max(s.heads, s.kvHeads)) * double(s.headDim) * 4.0 > double(1ull << 40))
        throw ComputeError("attention: arrays too large (" + shape() + ")");
    if (!q || !k || !v || !out)
        throw ComputeError("attention: null array");
}

void checkF32Block(const char* op, const F32Block& b)
{
    if (!b.matrix)
        throw ComputeError(std::string(op) + ": null matrix");
    const F32Matrix& m = *b.matrix;
    if (b.rows < 1 || b.cols < 1 || b.row < 0 || b.col < 0 || b.row > m.rows() - b.rows || b.col > m.cols() - b.cols)
        throw ComputeError(std::string(op) + ": block " + std::to_string(b.rows) + "x" + std::to_string(b.cols) + " at (" +
                           std::to_string(b.row) + ", " + std::to_string(b.col) + ") is not inside a " +
                           std::to_string(m.rows()) + "x" + std::to_string(m.cols()) + " matrix");
}

void Backend::gemmF32(const float* a, int m, int k, const float* b, int n, bool transB, float* c)
{
    if (!a || !b || !c)
        throw ComputeError("gemmF32: null array");
    auto ma = makeF32Matrix(m, k);
    auto mb = transB ? makeF32Matrix(n, k) : makeF32Matrix(k, n);
    writeF32(*ma, 0, 0, m, k, a, k);
    writeF32(*mb, 0, 0, mb->rows(), mb->cols(), b, mb->cols());
    gemmF32({ma.get(), 0, 0, m, k}, false, {mb.get(), 0, 0, mb->rows(), mb->cols()}, transB, c, n);
}

void Backend::dequantGemm(const float* x, int m, const WeightMatrix& w, float* y)
{
    // Aliasing pointer with no ownership: the prepared object dies before this call returns.
    auto p = prepare(std::shared_ptr<const WeightMatrix>(&w, [](const WeightMatrix*) {}));
    dequantGemm(x, m, *p, y);
}

} // namespace qs::compute
