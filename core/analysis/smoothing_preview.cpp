#include "core/analysis/smoothing_preview.hpp"

#include "core/quant/smoothquant_scaling.hpp"
#include "core/quant/w8a8_linear.hpp"
#include "core/util/error.hpp"

#include <algorithm>

namespace qs::analysis {

using runtime::Mat;
using runtime::Vec;

namespace {

Mat dequantizeActivations(const compute::Int8Activations& a)
{
    Mat out(a.m, a.k);
    for (int t = 0; t < a.m; ++t) {
        const float scale = a.scale.size() == 1 ? a.scale[0] : a.scale[std::size_t(t)];
        for (int j = 0; j < a.k; ++j)
            out(t, j) = float(a.q[std::size_t(t) * std::size_t(a.k) + std::size_t(j)]) * scale;
    }
    return out;
}

Mat dequantizeWeights(const compute::Int8PerChannel& w)
{
    Mat out(w.n, w.k);
    for (int r = 0; r < w.n; ++r)
        for (int j = 0; j < w.k; ++j)
            out(r, j) = float(w.q[std::size_t(r) * std::size_t(w.k) + std::size_t(j)]) * w.scale[std::size_t(r)];
    return out;
}

double relError(const Mat& a, const Mat& ref)
{
    const double d = double(ref.norm());
    return d > 0 ? double((a - ref).norm()) / d : 0.0;
}

} // namespace

double spreadOf(const Vec& v)
{
    if (v.size() == 0)
        return 0;
    std::vector<float> c(v.data(), v.data() + v.size());
    const auto mid = c.begin() + std::ptrdiff_t(c.size() / 2);
    std::nth_element(c.begin(), mid, c.end());
    return *mid > 0 ? double(v.maxCoeff()) / double(*mid) : 0.0;
}

SmoothingPreview previewSmoothing(const LinearProfile& linear, const InputSiteProfile& site, float alpha)
{
    SmoothingPreview p;
    p.alpha = alpha;
    p.scales = quant::smoothingScalesFromAbsmax(site.absmax, linear.groupWeightAbsmax, alpha);
    p.activationAbsmax = site.absmax.cwiseQuotient(p.scales);
    p.weightAbsmax = linear.weightAbsmax.cwiseProduct(p.scales);
    p.activationSpread = spreadOf(p.activationAbsmax);
    p.weightSpread = spreadOf(p.weightAbsmax);
    return p;
}

SmoothedInt8Error int8ErrorAfterSmoothing(const Mat& x, const Mat& w, const Vec& s, const Vec& activationAbsmax)
{
    if (x.cols() != w.cols() || s.size() != w.cols() || activationAbsmax.size() != w.cols())
        throw Error("int8 error: " + std::to_string(x.cols()) + " input channels, weight " + std::to_string(w.rows()) +
                    "x" + std::to_string(w.cols()) + ", " + std::to_string(s.size()) + " scales");
    SmoothedInt8Error e;
    Mat xs = x;
    xs.array().rowwise() /= s.transpose().array();
    Mat ws = w;
    ws.array().rowwise() *= s.transpose().array();
    const Mat xq = dequantizeActivations(quant::quantizeActivationsPerToken(xs));
    const float staticScale = std::max(activationAbsmax.cwiseQuotient(s).maxCoeff(), 1e-5f) / 127.0f;
    const Mat xqt = dequantizeActivations(quant::quantizeActivationsPerTensor(xs, staticScale));
    const Mat wq = dequantizeWeights(quant::quantizeInt8PerChannel(ws));
    e.activationPerToken = relError(xq, xs);
    e.activationPerTensor = relError(xqt, xs);
    e.weight = relError(wq, ws);
    if (x.rows() > 0)
        e.output = relError(xq * wq.transpose(), x * w.transpose());
    return e;
}

std::vector<SmoothedInt8Error> sweepAlpha(const LinearProfile& linear, const InputSiteProfile& site, const Mat& w,
                                          int steps, jobs::Progress* progress)
{
    std::vector<SmoothedInt8Error> out;
    steps = std::max(1, steps);
    for (int i = 0; i <= steps; ++i) {
        const float alpha = float(i) / float(steps);
        const Vec s = quant::smoothingScalesFromAbsmax(site.absmax, linear.groupWeightAbsmax, alpha);
        SmoothedInt8Error e = int8ErrorAfterSmoothing(site.sample, w, s, site.absmax);
        e.alpha = alpha;
        out.push_back(e);
        if (progress)
            progress->report(double(i + 1) / double(steps + 1));
    }
    return out;
}

} // namespace qs::analysis
