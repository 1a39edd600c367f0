#include "core/quant/smoothquant_scaling.hpp"

#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

namespace {

constexpr float kFloor = 1e-5f; // smooth.py: weight_scales.clamp(min=1e-5), scales.clamp(min=1e-5)

void scaleColumns(runtime::BlockWeights& block, LinearRole role, const Vec& s)
{
    auto& slot = block.linear(role);
    if (slot->inFeatures() != s.size())
        throw Error(std::string("smoothing scales do not match the inputs of ") + runtime::linearRoleName(role));
    Mat w = currentWeight(*slot);
    w.array().rowwise() *= s.transpose().array();
    slot = std::make_shared<runtime::DenseLinear>(std::move(w), currentBias(*slot));
}

} // namespace

Vec weightColumnAbsmax(const std::vector<const Mat*>& weights, Eigen::Index channels)
{
    if (weights.empty())
        throw Error("smoothing needs at least one linear");
    Vec wmax = Vec::Zero(channels);
    for (const Mat* w : weights) {
        if (w->cols() != channels)
            throw Error("smoothing: weight has " + std::to_string(w->cols()) + " inputs, activations " +
                        std::to_string(channels));
        wmax = wmax.cwiseMax(w->cwiseAbs().colwise().maxCoeff().transpose());
    }
    return wmax;
}

Vec smoothingScalesFromAbsmax(const Vec& activationAbsmax, const Vec& weightAbsmax, float alpha)
{
    if (weightAbsmax.size() != activationAbsmax.size())
        throw Error("smoothing: " + std::to_string(weightAbsmax.size()) + " weight columns, " +
                    std::to_string(activationAbsmax.size()) + " activation channels");
    Vec s(activationAbsmax.size());
    for (Eigen::Index j = 0; j < s.size(); ++j) {
        const double ws = std::max(weightAbsmax[j], kFloor);
        const double v = std::pow(double(activationAbsmax[j]), double(alpha)) / std::pow(ws, 1.0 - double(alpha));
        s[j] = std::max(float(v), kFloor);
    }
    return s;
}

Vec smoothingScales(const Vec& activationAbsmax, const std::vector<const Mat*>& weights, float alpha)
{
    return smoothingScalesFromAbsmax(activationAbsmax, weightColumnAbsmax(weights, activationAbsmax.size()), alpha);
}

SmoothingScales computeSmoothingScales(const runtime::BlockWeights& block, const calib::BlockCalibration& cal,
                                       float alpha)
{
    if (!cal.hasStats(LinearRole::Q) || !cal.hasStats(LinearRole::Gate))
        throw Error("smoothquant needs the calibration absmax of the block's inputs");
    const Mat q = currentWeight(block.linear(LinearRole::Q)), k = currentWeight(block.linear(LinearRole::K)),
              v = currentWeight(block.linear(LinearRole::V));
    const Mat gate = currentWeight(block.linear(LinearRole::Gate)), up = currentWeight(block.linear(LinearRole::Up));
    SmoothingScales s;
    s.attention = smoothingScales(cal.site(calib::InputSite::Attention).absmax(), {&q, &k, &v}, alpha);
    s.mlp = smoothingScales(cal.site(calib::InputSite::Mlp).absmax(), {&gate, &up}, alpha);
    return s;
}

void applySmoothing(runtime::BlockWeights& block, const SmoothingScales& scales)
{
    if (block.inputNorm.size() != scales.attention.size() || block.postAttentionNorm.size() != scales.mlp.size())
        throw Error("smoothing scales do not match the block's norms");
    block.inputNorm = block.inputNorm.cwiseQuotient(scales.attention);
    block.postAttentionNorm = block.postAttentionNorm.cwiseQuotient(scales.mlp);
    for (auto r : {LinearRole::Q, LinearRole::K, LinearRole::V})
        scaleColumns(block, r, scales.attention);
    for (auto r : {LinearRole::Gate, LinearRole::Up})
        scaleColumns(block, r, scales.mlp);
}

} // namespace qs::quant
