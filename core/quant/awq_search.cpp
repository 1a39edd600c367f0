#include "core/quant/awq_search.hpp"

#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>

namespace qs::quant {

using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

namespace {

Mat stackRows(const std::vector<Mat>& parts)
{
    Eigen::Index rows = 0;
    for (const auto& p : parts)
        rows += p.rows();
    Mat out(rows, parts.empty() ? 0 : parts.front().cols());
    Eigen::Index at = 0;
    for (const auto& p : parts) {
        out.middleRows(at, p.rows()) = p;
        at += p.rows();
    }
    return out;
}

double meanSquaredDiff(const Mat& a, const Mat& b)
{
    return a.size() ? double((a - b).squaredNorm()) / double(a.size()) : 0.0;
}

// What the judged modules see, computed once with the block's unquantized weights.
struct ModuleData {
    std::vector<Mat> attentionIn, attentionOut; // per sample: normalized block input, o's output
    Mat oIn, mlpIn, mlpOut, downIn;             // stacked over samples
    int tokens = 0;
};

ModuleData gatherModuleData(const runtime::Transformer& model, int block, const std::vector<Mat>& inputs, int maxTokens)
{
    const auto& b = model.weights().blocks[std::size_t(block)];
    const double eps = model.spec().rmsNormEps;
    ModuleData d;
    std::vector<Mat> oIn, mlpIn, mlpOut, downIn;
    runtime::ForwardHooks hooks;
    hooks.onLinearInput = [&](int, LinearRole r, const Mat& x) {
        if (r == LinearRole::O)
            oIn.push_back(x);
        else if (r == LinearRole::Down)
            downIn.push_back(x);
    };
    for (const Mat& x : inputs) {
        if (d.tokens >= maxTokens && d.tokens > 0)
            break;
        Mat n1 = x;
        runtime::Transformer::rmsNorm(n1, b.inputNorm, eps);
        Mat a = model.attention(block, n1, 0, nullptr, &hooks);
        Mat n2 = x + a;
        runtime::Transformer::rmsNorm(n2, b.postAttentionNorm, eps);
        mlpOut.push_back(model.mlp(block, n2, &hooks));
        mlpIn.push_back(std::move(n2));
        d.attentionIn.push_back(std::move(n1));
        d.attentionOut.push_back(std::move(a));
        d.tokens += int(x.rows());
    }
    d.oIn = stackRows(oIn);
    d.mlpIn = stackRows(mlpIn);
    d.mlpOut = stackRows(mlpOut);
    d.downIn = stackRows(downIn);
    return d;
}

// Puts the block's linears back however the search leaves.
struct SlotRestorer {
    runtime::BlockWeights& block;
    std::array<std::shared_ptr<runtime::LinearOp>, 7> saved;
    explicit SlotRestorer(runtime::BlockWeights& b) : block(b), saved(b.linears) {}
    ~SlotRestorer() { block.linears = saved; }
};

} // namespace

AwqGroupChoice searchAwqRatio(const std::string& name, const Vec& xMean, const std::vector<Mat>& weights,
                           const QuantConfig& config, const AwqJudge& judge)
{
    const auto t0 = std::chrono::steady_clock::now();
    AwqGroupChoice c;
    c.name = name;
    c.searched = true;
    const GroupGrid grid{config.bits, config.symmetric};
    std::vector<const Mat*> ptrs;
    for (const auto& w : weights)
        ptrs.push_back(&w);
    const Vec wMean = awqWeightMean(ptrs, config.groupSize);
    std::vector<Mat> fake(weights.size());
    double best = std::numeric_limits<double>::infinity();
    int bestIndex = -1;
    for (int i = 0; i < config.awqGrid; ++i) {
        const float ratio = float(i) / float(config.awqGrid);
        const Vec s = awqScalesForRatio(xMean, wMean, ratio, config.awqXOnly);
        for (std::size_t j = 0; j < weights.size(); ++j)
            fake[j] = fakeQuantizeScaled(weights[j], s, grid, config.groupSize);
        const double err = judge(fake);
        c.errors.push_back(err);
        if (err < best) { // the first of equal errors wins, as AutoAWQ's strict comparison
            best = err;
            bestIndex = i;
        }
    }
    if (bestIndex < 0)
        throw Error("awq: no finite output error in the scale search of " + name);
    c.ratio = float(bestIndex) / float(config.awqGrid);
    c.error = best;
    for (std::size_t j = 0; j < weights.size(); ++j)
        fake[j] = dequantizeGroupwise(quantizeGroupwise(weights[j], grid, config.groupSize), int(weights[j].rows()),
                                      int(weights[j].cols()));
    c.rtnError = judge(fake);
    if (c.rtnError < c.error) {
        c.keptRtn = true;
        c.error = c.rtnError;
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return c;
}

namespace {

Vec scalesOf(const AwqGroupChoice& c, const Vec& xMean, const std::vector<Mat>& weights, const QuantConfig& config)
{
    std::vector<const Mat*> ptrs;
    for (const auto& w : weights)
        ptrs.push_back(&w);
    if (c.keptRtn)
        return Vec::Ones(xMean.size());
    return awqScalesForRatio(xMean, awqWeightMean(ptrs, config.groupSize), c.ratio, config.awqXOnly);
}

} // namespace

AwqBlockSearch searchAwqScales(runtime::Transformer& model, const calib::BlockCalibration& cal,
                               const QuantConfig& config, int maxTokens)
{
    if (!cal.inputs || cal.inputs->empty())
        throw Error("awq needs the block's calibration inputs");
    for (auto r : {LinearRole::Q, LinearRole::O, LinearRole::Gate, LinearRole::Down})
        if (!cal.hasStats(r))
            throw Error("awq needs the calibration statistics of every linear input");
    if (config.awqGrid < 1)
        throw Error("awq: the ratio grid needs at least one point");
    const int block = cal.block;
    auto& bw = model.weights().blocks[std::size_t(block)];
    const ModuleData d = gatherModuleData(model, block, *cal.inputs, maxTokens);
    SlotRestorer restore(bw);
    auto weightOf = [&](LinearRole r) { return currentWeight(*restore.saved[std::size_t(r)]); };
    auto biasOf = [&](LinearRole r) { return currentBias(*restore.saved[std::size_t(r)]); };
    auto setDense = [&](LinearRole r, const Mat& w) { bw.linear(r) = std::make_shared<runtime::DenseLinear>(w, biasOf(r)); };

    AwqBlockSearch out;
    out.tokens = d.tokens;

    // input_layernorm -> q,k,v, judged on the attention output.
    {
        const std::vector<Mat> w = {weightOf(LinearRole::Q), weightOf(LinearRole::K), weightOf(LinearRole::V)};
        const Vec xMean = cal.site(calib::InputSite::Attention).meanAbs();
        auto judge = [&](const std::vector<Mat>& f) {
            setDense(LinearRole::Q, f[0]);
            setDense(LinearRole::K, f[1]);
            setDense(LinearRole::V, f[2]);
            double se = 0;
            std::int64_t n = 0;
            for (std::size_t i = 0; i < d.attentionIn.size(); ++i) {
                const Mat y = model.attention(block, d.attentionIn[i]);
                se += double((y - d.attentionOut[i]).squaredNorm());
                n += y.size();
            }
            bw.linears = restore.saved;
            return se / double(n);
        };
        auto c = searchAwqRatio("input_layernorm -> q,k,v", xMean, w, config, judge);
        out.scales.qkv = scalesOf(c, xMean, w, config);
        out.groups.push_back(std::move(c));
    }
    // v -> o, judged on o's output; the scaling needs v's outputs to be o's inputs one to one.
    {
        const auto& v = *restore.saved[std::size_t(LinearRole::V)];
        const auto& o = *restore.saved[std::size_t(LinearRole::O)];
        if (v.outFeatures() == o.inFeatures()) {
            const std::vector<Mat> w = {weightOf(LinearRole::O)};
            const Vec xMean = cal.site(calib::InputSite::AttentionOutput).meanAbs();
            const Mat y = d.oIn * w[0].transpose(); // o's bias cancels in the difference
            auto judge = [&](const std::vector<Mat>& f) { return meanSquaredDiff(d.oIn * f[0].transpose(), y); };
            auto c = searchAwqRatio("v_proj -> o_proj", xMean, w, config, judge);
            out.scales.vo = scalesOf(c, xMean, w, config);
            out.groups.push_back(std::move(c));
        } else {
            AwqGroupChoice c;
            c.name = "v_proj -> o_proj";
            c.skipReason = "grouped-query attention: v has " + std::to_string(v.outFeatures()) + " outputs, o " +
                           std::to_string(o.inFeatures()) + " inputs";
            out.groups.push_back(std::move(c));
        }
    }
    // post_attention_layernorm -> gate,up, judged on the MLP output.
    {
        const std::vector<Mat> w = {weightOf(LinearRole::Gate), weightOf(LinearRole::Up)};
        const Vec xMean = cal.site(calib::InputSite::Mlp).meanAbs();
        auto judge = [&](const std::vector<Mat>& f) {
            setDense(LinearRole::Gate, f[0]);
            setDense(LinearRole::Up, f[1]);
            const Mat y = model.mlp(block, d.mlpIn);
            bw.linears = restore.saved;
            return meanSquaredDiff(y, d.mlpOut);
        };
        auto c = searchAwqRatio("post_attention_layernorm -> gate,up", xMean, w, config, judge);
        out.scales.gateUp = scalesOf(c, xMean, w, config);
        out.groups.push_back(std::move(c));
    }
    // up -> down, judged on down's output.
    {
        const std::vector<Mat> w = {weightOf(LinearRole::Down)};
        const Vec xMean = cal.site(calib::InputSite::MlpDown).meanAbs();
        const Mat y = d.downIn * w[0].transpose();
        auto judge = [&](const std::vector<Mat>& f) { return meanSquaredDiff(d.downIn * f[0].transpose(), y); };
        auto c = searchAwqRatio("up_proj -> down_proj", xMean, w, config, judge);
        out.scales.down = scalesOf(c, xMean, w, config);
        out.groups.push_back(std::move(c));
    }
    return out;
}

} // namespace qs::quant
