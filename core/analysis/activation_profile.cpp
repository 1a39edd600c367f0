#include "core/analysis/activation_profile.hpp"

#include "core/quant/layer_metrics.hpp"
#include "core/quant/smoothquant_scaling.hpp"

#include <algorithm>

namespace qs::analysis {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

namespace {

// The linears SmoothQuant smooths together (smoothquant_scaling.hpp), or the linear alone for
// o and down, which the method does not smooth.
std::vector<LinearRole> smoothGroup(LinearRole r)
{
    switch (r) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V: return {LinearRole::Q, LinearRole::K, LinearRole::V};
    case LinearRole::Gate:
    case LinearRole::Up: return {LinearRole::Gate, LinearRole::Up};
    default: return {r};
    }
}

void profileBlock(const runtime::BlockWeights& weights, const calib::BlockCalibration& cal, ActivationProfile& out)
{
    int siteIndex[4];
    for (int s = 0; s < 4; ++s) {
        const calib::LinearInputStats& stats = cal.site(calib::InputSite(s));
        InputSiteProfile p;
        p.block = cal.block;
        p.site = calib::InputSite(s);
        p.tokens = stats.tokens();
        p.absmax = stats.absmax();
        p.meanAbs = stats.meanAbs();
        p.meanSquare = stats.meanSquare();
        p.sample = stats.sample();
        siteIndex[s] = int(out.sites.size());
        out.sites.push_back(std::move(p));
    }
    std::array<Vec, 7> columnAbsmax;
    for (auto role : runtime::kAllLinearRoles)
        columnAbsmax[std::size_t(role)] = quant::currentWeight(weights.linear(role)).cwiseAbs().colwise().maxCoeff().transpose();
    for (auto role : runtime::kAllLinearRoles) {
        LinearProfile l;
        l.name = quant::linearName(cal.block, role);
        l.block = cal.block;
        l.role = role;
        l.site = siteIndex[int(calib::inputSiteOf(role))];
        l.smoothedByMethod = role != LinearRole::O && role != LinearRole::Down;
        l.weightAbsmax = columnAbsmax[std::size_t(role)];
        l.groupWeightAbsmax = Vec::Zero(l.weightAbsmax.size());
        for (auto g : smoothGroup(role))
            l.groupWeightAbsmax = l.groupWeightAbsmax.cwiseMax(columnAbsmax[std::size_t(g)]);
        out.linears.push_back(std::move(l));
    }
}

} // namespace

int ActivationProfile::indexOf(int block, LinearRole role) const
{
    for (std::size_t i = 0; i < linears.size(); ++i)
        if (linears[i].block == block && linears[i].role == role)
            return int(i);
    return -1;
}

ActivationProfile profileActivations(runtime::Transformer& model, const calib::CalibrationSet& set, int sampleRows,
                                     std::uint64_t seed, jobs::Progress* progress)
{
    ActivationProfile out;
    out.samples = int(set.samples.size());
    out.length = set.length;
    calib::CaptureOptions options;
    options.hessian = false;
    options.maxSampleRows = std::max(0, sampleRows);
    options.seed = seed;
    calib::streamCalibration(
        model, set, options,
        [&](calib::BlockCalibration& cal) { profileBlock(model.weights().blocks[std::size_t(cal.block)], cal, out); },
        progress);
    return out;
}

OutlierChannels activationOutliers(const Vec& absmax, double factor)
{
    OutlierChannels o;
    if (absmax.size() == 0)
        return o;
    std::vector<float> v(absmax.data(), absmax.data() + absmax.size());
    const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    o.threshold = factor * double(*mid);
    for (Eigen::Index j = 0; j < absmax.size(); ++j)
        if (double(absmax[j]) > o.threshold)
            o.channels.push_back(int(j));
    return o;
}

} // namespace qs::analysis
