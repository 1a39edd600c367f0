#include "core/runtime/rope.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace qs::runtime {

Rope::Rope(const model::ArchSpec& spec, bool interleaved) : headDim_(int(spec.headDim)), interleaved_(interleaved)
{
    const int half = headDim_ / 2;
    invFreq_.resize(std::size_t(half));
    for (int i = 0; i < half; ++i)
        invFreq_[std::size_t(i)] = 1.0 / std::pow(spec.ropeTheta, double(2 * i) / double(headDim_));
    if (!spec.ropeScaling)
        return;
    const auto& rs = *spec.ropeScaling;
    if (rs.type == "llama3") {
        // transformers' _compute_llama3_parameters.
        const double oldCtx = double(rs.originalMaxPositionEmbeddings);
        const double lowWavelen = oldCtx / rs.lowFreqFactor;
        const double highWavelen = oldCtx / rs.highFreqFactor;
        for (auto& f : invFreq_) {
            const double wavelen = 2.0 * std::numbers::pi / f;
            if (wavelen > lowWavelen) {
                f = f / rs.factor;
            } else if (wavelen >= highWavelen) {
                const double smooth = (oldCtx / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
                f = (1.0 - smooth) * f / rs.factor + smooth * f;
            }
        }
    } else if (rs.type == "linear") {
        for (auto& f : invFreq_)
            f /= rs.factor;
    } else if (rs.type != "default") {
        spdlog::warn("rope_scaling type '{}' is not implemented; using unscaled RoPE", rs.type);
    }
}

Rope::Rope(const model::ArchSpec& spec, bool interleaved, const std::vector<float>& freqFactors)
    : headDim_(int(spec.headDim)), interleaved_(interleaved)
{
    const int half = headDim_ / 2;
    if (freqFactors.size() != std::size_t(half))
        throw Error("rope_freqs has " + std::to_string(freqFactors.size()) + " values for head_dim " +
                    std::to_string(headDim_) + " (expected " + std::to_string(half) + ")");
    invFreq_.resize(std::size_t(half));
    for (int i = 0; i < half; ++i) {
        const float f = freqFactors[std::size_t(i)];
        if (!(f > 0.0f) || !std::isfinite(f))
            throw Error("rope_freqs[" + std::to_string(i) + "] is " + std::to_string(f) + " (must be positive)");
        invFreq_[std::size_t(i)] = 1.0 / std::pow(spec.ropeTheta, double(2 * i) / double(headDim_)) / double(f);
    }
}

namespace {

// Rows [firstRow, endRow) of x, row t at position startPos + t (t % period with a period).
void rotateRows(Mat& x, int heads, int startPos, int period, int headDim, bool interleaved,
                const std::vector<double>& invFreq, std::int64_t firstRow, std::int64_t endRow)
{
    const int half = headDim / 2;
    for (Eigen::Index t = firstRow; t < endRow; ++t) {
        const double pos = double(startPos + (period > 0 ? t % period : t));
        for (int i = 0; i < half; ++i) {
            // transformers computes the angle in f32: (inv_freq (f32) * position (f32)).
            const float angle = float(invFreq[std::size_t(i)]) * float(pos);
            const float c = std::cos(angle), s = std::sin(angle);
            for (int h = 0; h < heads; ++h) {
                float* head = x.row(t).data() + std::size_t(h) * std::size_t(headDim);
                const int a = interleaved ? 2 * i : i;
                const int b = interleaved ? 2 * i + 1 : i + half;
                const float x0 = head[a], x1 = head[b];
                head[a] = x0 * c - x1 * s;
                head[b] = x1 * c + x0 * s;
            }
        }
    }
}

} // namespace

void Rope::apply(Mat& x, int heads, int startPos, int period) const
{
    if (period < 0)
        throw Error("rope: negative period " + std::to_string(period));
    // Positions split across the pool's threads; small batches (decode) stay on this one.
    const std::int64_t grain = x.size() < (1 << 16) ? std::max<std::int64_t>(1, x.rows()) : 8;
    ThreadPool::shared().parallelFor(
        x.rows(),
        [&](std::int64_t t0, std::int64_t t1) { rotateRows(x, heads, startPos, period, headDim_, interleaved_, invFreq_, t0, t1); },
        grain);
}

} // namespace qs::runtime
