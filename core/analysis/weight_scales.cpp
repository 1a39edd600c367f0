#include "core/analysis/weight_scales.hpp"

#include <type_traits>

namespace qs::analysis {

GroupScales groupScales(const compute::WeightMatrix& w)
{
    GroupScales g;
    std::visit(
        [&g](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, compute::Int8PerChannel>) {
                g.scales = Eigen::Map<const runtime::Mat>(m.scale.data(), m.n, 1);
                g.groupCols = m.k;
                g.kind = "per output channel";
            } else if constexpr (std::is_same_v<T, compute::IntGroupwise>) {
                g.scales = Eigen::Map<const runtime::Mat>(m.scales.data(), m.n, m.groups());
                g.groupCols = m.groupSize;
                g.kind = "per group of " + std::to_string(m.groupSize) + (m.gIdx.empty() ? "" : " (act-order g_idx)");
            } else if constexpr (std::is_same_v<T, compute::Nf4>) {
                const int perRow = m.k / compute::Nf4::kBlockSize;
                g.scales.resize(m.n, perRow);
                for (std::size_t b = 0; b < m.blocks(); ++b)
                    g.scales(Eigen::Index(b) / perRow, Eigen::Index(b) % perRow) =
                        m.doubleQuant ? m.absmaxCodebook[m.absmaxCodes[b]] * m.absmaxScale[b / compute::Nf4::kDoubleQuantBlock] +
                                            m.absmaxOffset
                                      : m.absmax[b];
                g.groupCols = compute::Nf4::kBlockSize;
                g.kind = std::string("absmax per block of 64") + (m.doubleQuant ? " (double-quantized)" : "");
            }
        },
        w);
    return g;
}

} // namespace qs::analysis
