#include "core/compute/cpu/attention.hpp"

#include "core/util/thread_pool.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qs::compute {

namespace {
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::OuterStride<>;
using ConstHead = Eigen::Map<const RowMajorF, 0, Strided>;
using Head = Eigen::Map<RowMajorF, 0, Strided>;
} // namespace

void causalAttention(const AttentionShape& s, const float* q, const float* k, const float* v, float* out)
{
    const Eigen::Index T = s.queries, S = s.keys, D = s.headDim;
    const Eigen::Index qStride = Eigen::Index(s.heads) * D, kvStride = Eigen::Index(s.kvHeads) * D;
    const Eigen::Index offset = S - T; // absolute position of query 0 relative to key 0
    const float scale = 1.0f / std::sqrt(float(D));
    const int group = s.heads / s.kvHeads;
    // Work items: (sample, head, block of query rows), split across the pool's threads. A
    // block's queries see keys 0..offset+last row only, so the causal half above the diagonal
    // is never computed.
    const Eigen::Index qBlock = std::max<Eigen::Index>(1, std::min<Eigen::Index>(T, 64));
    const Eigen::Index blocksPerHead = (T + qBlock - 1) / qBlock;
    const std::int64_t items = std::int64_t(s.samples) * s.heads * blocksPerHead;
    const auto attend = [&](std::int64_t i0, std::int64_t i1) {
        RowMajorF scores(qBlock, S);
        for (std::int64_t item = i0; item < i1; ++item) {
            const Eigen::Index sample = item / (std::int64_t(s.heads) * blocksPerHead);
            const int h = int(item / blocksPerHead % s.heads);
            const Eigen::Index r0 = (item % blocksPerHead) * qBlock, rows = std::min(qBlock, T - r0);
            const Eigen::Index seen = std::min(S, offset + r0 + rows); // keys the block's last query sees
            const int kvh = h / group;
            const float* qs = q + (sample * T + r0) * qStride + Eigen::Index(h) * D;
            const float* ks = k + sample * S * kvStride + Eigen::Index(kvh) * D;
            const float* vs = v + sample * S * kvStride + Eigen::Index(kvh) * D;
            const ConstHead qh(qs, rows, D, Strided(qStride));
            const ConstHead kh(ks, seen, D, Strided(kvStride));
            const ConstHead vh(vs, seen, D, Strided(kvStride));
            auto sc = scores.topLeftCorner(rows, seen);
            sc.noalias() = (qh * kh.transpose()) * scale;
            for (Eigen::Index t = 0; t < rows; ++t) {
                const Eigen::Index visible = offset + r0 + t + 1; // causal: keys 0..offset+r0+t
                auto row = sc.row(t);
                if (visible < seen)
                    row.tail(seen - visible).setConstant(-std::numeric_limits<float>::infinity());
                const float mx = row.head(visible).maxCoeff();
                row = (row.array() - mx).exp();
                row /= row.sum();
            }
            Head oh(out + (sample * T + r0) * qStride + Eigen::Index(h) * D, rows, D, Strided(qStride));
            oh.noalias() = sc * vh;
        }
    };
    ThreadPool::shared().parallelFor(items, attend, T * S * D < (1 << 13) ? items : 1);
}

} // namespace qs::compute
