#include "core/export/gguf_int4_blocks.hpp"

#include "core/util/error.hpp"

#include <cstring>

namespace qs::exporting {

bool mapsToGgufBlocks(const compute::IntGroupwise& w)
{
    return w.bits == 4 && w.groupSize == 32 && w.gIdx.empty() && w.k % 32 == 0 &&
           w.scales.size() == std::size_t(w.n) * std::size_t(w.groups()) &&
           (w.symmetric || w.zeros.size() == w.scales.size());
}

GgmlType ggufBlockTypeFor(const compute::IntGroupwise& w)
{
    return w.symmetric ? GgmlType::Q4_0 : GgmlType::Q4_1;
}

std::vector<std::uint8_t> toGgufBlocks(const compute::IntGroupwise& w, const std::vector<int>& rowOrder)
{
    if (!mapsToGgufBlocks(w))
        throw Error("int" + std::to_string(w.bits) + " g" + std::to_string(w.groupSize) +
                    (w.gIdx.empty() ? "" : " act-order") + " weights do not map onto Q4_0/Q4_1 blocks");
    if (!rowOrder.empty() && rowOrder.size() != std::size_t(w.n))
        throw Error("toGgufBlocks: row order of " + std::to_string(rowOrder.size()) + " rows for " +
                    std::to_string(w.n));
    const GgmlType type = ggufBlockTypeFor(w);
    const int blockBytes = ggmlBlockBytes(type);
    const int groups = w.groups();
    const std::size_t rowWords = std::size_t(w.k) / 8; // 8 codes per 32-bit word
    std::vector<std::uint8_t> out(std::size_t(w.n) * std::size_t(groups) * std::size_t(blockBytes));
    auto code = [&](int row, int col) {
        return (w.codes[std::size_t(row) * rowWords + std::size_t(col) / 8] >> ((col % 8) * 4)) & 0xF;
    };
    for (int r = 0; r < w.n; ++r) {
        const int src = rowOrder.empty() ? r : rowOrder[std::size_t(r)];
        for (int g = 0; g < groups; ++g) {
            std::uint8_t* b = out.data() + (std::size_t(r) * groups + g) * blockBytes;
            const float s = w.scales[std::size_t(src) * groups + g];
            const std::uint16_t d = f32ToF16(s);
            std::memcpy(b, &d, 2);
            std::uint8_t* qs = b + 2;
            if (!w.symmetric) {
                const std::uint16_t m = f32ToF16(-w.zeros[std::size_t(src) * groups + g] * s);
                std::memcpy(b + 2, &m, 2);
                qs = b + 4;
            }
            for (int j = 0; j < 16; ++j)
                qs[j] = std::uint8_t(code(src, g * 32 + j) | (code(src, g * 32 + 16 + j) << 4));
        }
    }
    return out;
}

} // namespace qs::exporting
