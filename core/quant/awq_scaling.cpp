#include "core/quant/awq_scaling.hpp"

// The per-group loops of the quantization run over every weight of a block once per candidate:
// vectorized at O3 (the project's O2 uses GCC's very-cheap cost model, which leaves them scalar).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include "core/quant/awq_packing.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

Vec awqWeightMean(const std::vector<const Mat*>& weights, int groupSize)
{
    if (weights.empty())
        throw Error("awq: no weights to average");
    const Eigen::Index k = weights.front()->cols();
    const int gs = groupSize > 0 && groupSize < k ? groupSize : int(k);
    Eigen::Index rows = 0;
    for (const Mat* w : weights) {
        if (w->cols() != k)
            throw Error("awq: the linears of a scaling group must share their input");
        rows += w->rows();
    }
    // Groups of columns split over the pool; each column sums its rows in order, so the result
    // does not depend on the thread count.
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(k);
    ThreadPool::shared().parallelFor(
        (k + gs - 1) / gs,
        [&](std::int64_t gb, std::int64_t ge) {
            for (const Mat* w : weights)
                for (Eigen::Index r = 0; r < w->rows(); ++r)
                    for (Eigen::Index g = gb * gs; g < std::min<Eigen::Index>(k, ge * gs); g += gs) {
                        const auto seg = w->row(r).segment(g, gs);
                        const float denom = seg.cwiseAbs().maxCoeff() + 1e-6f; // AutoAWQ's + 1e-6
                        sum.segment(g, gs) += (seg.cwiseAbs() / denom).transpose().cast<double>();
                    }
        },
        1);
    return (sum / double(rows)).cast<float>();
}

Vec awqScalesForRatio(const Vec& xMean, const Vec& wMean, float ratio, bool xOnly)
{
    Vec s(xMean.size());
    for (Eigen::Index j = 0; j < s.size(); ++j) {
        const double x = std::pow(double(xMean[j]), double(ratio));
        const double v = xOnly ? x : x / (std::pow(double(wMean[j]), 1.0 - double(ratio)) + 1e-4);
        s[j] = std::max(float(v), 1e-4f);
    }
    const float norm = std::sqrt(s.maxCoeff() * s.minCoeff());
    s /= norm;
    for (auto& v : s)
        if (!std::isfinite(v))
            v = 1.0f;
    return s;
}

Mat fakeQuantizeScaled(const Mat& w, const Vec& s, const GroupGrid& grid, int groupSize)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (s.size() != k)
        throw Error("awq: " + std::to_string(s.size()) + " scales for " + std::to_string(k) + " columns");
    const int gs = groupSize > 0 && groupSize < k ? groupSize : k;
    if (k % gs != 0)
        throw Error("group size " + std::to_string(gs) + " does not divide " + std::to_string(k) + " input features");
    // One pass per row, group by group, with the operations of quantizeGroupwise on w * s and
    // dequantizeGroupwise / s in the same order (the same numbers, no N x K intermediates).
    Mat out(n, k);
    const int maxq = grid.maxq();
    ThreadPool::shared().parallelFor(
        n,
        [&](std::int64_t b, std::int64_t e) {
            std::vector<float> scaled(static_cast<std::size_t>(gs));
            for (std::int64_t row = b; row < e; ++row)
                for (int g0 = 0; g0 < k; g0 += gs) {
                    const float* src = w.row(row).data() + g0;
                    const float* sg = s.data() + g0;
                    float* dst = out.row(row).data() + g0;
                    for (int c = 0; c < gs; ++c)
                        scaled[std::size_t(c)] = src[c] * sg[c];
                    float scale, zero;
                    awqGroupParams(scaled.data(), gs, grid, scale, zero);
                    // quantizeCode / dequantizeCode written out with rint (nearbyint's value
                    // without its exception-flag guarantee) so that the loop vectorizes.
                    const float top = float(maxq), sc = scale, zr = zero;
                    const int count = gs;
                    const float* in = scaled.data();
                    for (int c = 0; c < count; ++c) {
                        float q = std::rint(in[c] / sc) + zr;
                        q = q < 0.0f ? 0.0f : (q > top ? top : q);
                        dst[c] = (q - zr) * sc / sg[c];
                    }
                }
        },
        16);
    return out;
}

Mat scaleForAwq(const Mat& w, const Vec& in, const Vec& out)
{
    if (in.size() != w.cols() || out.size() != w.rows())
        throw Error("awq: scales do not match a " + std::to_string(w.rows()) + "x" + std::to_string(w.cols()) + " weight");
    Mat r(w.rows(), w.cols());
    ThreadPool::shared().parallelFor(
        w.rows(),
        [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t row = b; row < e; ++row)
                r.row(row) = (w.row(row).array() * in.transpose().array()) / out[row];
        },
        16);
    return r;
}

void applyAwqNormScales(runtime::BlockWeights& block, const AwqBlockScales& scales)
{
    if (scales.qkv) {
        if (block.inputNorm.size() != scales.qkv->size())
            throw Error("awq scales do not match input_layernorm");
        block.inputNorm = block.inputNorm.cwiseQuotient(*scales.qkv);
    }
    if (scales.gateUp) {
        if (block.postAttentionNorm.size() != scales.gateUp->size())
            throw Error("awq scales do not match post_attention_layernorm");
        block.postAttentionNorm = block.postAttentionNorm.cwiseQuotient(*scales.gateUp);
    }
}

namespace {

void scaleColumns(runtime::BlockWeights& block, LinearRole role, const Vec& s)
{
    auto& slot = block.linear(role);
    if (slot->inFeatures() != s.size())
        throw Error(std::string("awq scales do not match the inputs of ") + runtime::linearRoleName(role));
    slot = std::make_shared<runtime::DenseLinear>(scaleForAwq(currentWeight(*slot), s, Vec::Ones(slot->outFeatures())),
                                                  currentBias(*slot));
}

void divideRows(runtime::BlockWeights& block, LinearRole role, const Vec& s)
{
    auto& slot = block.linear(role);
    if (slot->outFeatures() != s.size())
        throw Error(std::string("awq scales do not match the outputs of ") + runtime::linearRoleName(role));
    Mat w = scaleForAwq(currentWeight(*slot), Vec::Ones(slot->inFeatures()), s);
    auto bias = currentBias(*slot);
    if (bias)
        *bias = bias->cwiseQuotient(s);
    slot = std::make_shared<runtime::DenseLinear>(std::move(w), std::move(bias));
}

} // namespace

void applyAwqScales(runtime::BlockWeights& block, const AwqBlockScales& scales)
{
    applyAwqNormScales(block, scales);
    if (scales.qkv) {
        for (auto r : {LinearRole::Q, LinearRole::K, LinearRole::V})
            scaleColumns(block, r, *scales.qkv);
    }
    if (scales.vo) {
        divideRows(block, LinearRole::V, *scales.vo);
        scaleColumns(block, LinearRole::O, *scales.vo);
    }
    if (scales.gateUp) {
        for (auto r : {LinearRole::Gate, LinearRole::Up})
            scaleColumns(block, r, *scales.gateUp);
    }
    if (scales.down) {
        divideRows(block, LinearRole::Up, *scales.down);
        scaleColumns(block, LinearRole::Down, *scales.down);
    }
}

Vec awqInputScale(const AwqBlockScales& scales, LinearRole role, int inFeatures)
{
    const std::optional<Vec>* s = nullptr;
    switch (role) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V: s = &scales.qkv; break;
    case LinearRole::O: s = &scales.vo; break;
    case LinearRole::Gate:
    case LinearRole::Up: s = &scales.gateUp; break;
    case LinearRole::Down: s = &scales.down; break;
    }
    return s && *s ? **s : Vec::Ones(inFeatures);
}

Vec awqOutputScale(const AwqBlockScales& scales, LinearRole role, int outFeatures)
{
    if (role == LinearRole::V && scales.vo)
        return *scales.vo;
    if (role == LinearRole::Up && scales.down)
        return *scales.down;
    return Vec::Ones(outFeatures);
}

} // namespace qs::quant
