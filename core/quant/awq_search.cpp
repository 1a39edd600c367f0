#include "core/quant/awq_search.hpp"

#include "core/quant/awq_packing.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>

namespace qs::quant {

using runtime::LinearOp;
using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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

// What the judged modules see, computed once with the block's unquantized weights. The
// references are computed the way the judges run (the MLP, o and down on the stacked rows).
struct ModuleData {
    std::vector<Mat> attentionIn, attentionOut; // per sample: normalized block input, o's output
    Mat oIn, oOut, mlpIn, mlpOut, downIn, downOut; // stacked over samples
    int tokens = 0;
};

ModuleData gatherModuleData(const runtime::Transformer& model, int block, const std::vector<Mat>& inputs, int maxTokens)
{
    const auto& b = model.weights().blocks[std::size_t(block)];
    const double eps = model.spec().rmsNormEps;
    ModuleData d;
    std::vector<Mat> oIn, mlpIn;
    runtime::ForwardHooks hooks;
    hooks.onLinearInput = [&](int, LinearRole r, const Mat& x) {
        if (r == LinearRole::O)
            oIn.push_back(x);
        else if (r == LinearRole::Down)
            d.downIn = x;
    };
    for (const Mat& x : inputs) {
        if (d.tokens >= maxTokens && d.tokens > 0)
            break;
        Mat n1 = x;
        runtime::Transformer::rmsNorm(n1, b.inputNorm, eps);
        Mat a = model.attention(block, n1, 0, nullptr, &hooks);
        Mat n2 = x + a;
        runtime::Transformer::rmsNorm(n2, b.postAttentionNorm, eps);
        mlpIn.push_back(std::move(n2));
        d.attentionIn.push_back(std::move(n1));
        d.attentionOut.push_back(std::move(a));
        d.tokens += int(x.rows());
    }
    d.oIn = stackRows(oIn);
    d.mlpIn = stackRows(mlpIn);
    d.mlpOut = model.mlp(block, d.mlpIn, &hooks); // sets downIn
    b.linear(LinearRole::O).forward(d.oIn, d.oOut);
    b.linear(LinearRole::Down).forward(d.downIn, d.downOut);
    return d;
}

// Puts the block's linears back however the search leaves.
struct SlotRestorer {
    runtime::BlockWeights& block;
    std::array<std::shared_ptr<LinearOp>, 7> saved;
    explicit SlotRestorer(runtime::BlockWeights& b) : block(b), saved(b.linears) {}
    ~SlotRestorer() { block.linears = saved; }
};

// The linears of one group under one candidate scaling s: on the backend, Q(W diag(s)) in the
// kernels' format with inputs to be divided by s; in the reference, Q(W diag(s)) diag(1/s) in
// f32 with the inputs as they are.
struct Candidate {
    std::vector<std::shared_ptr<LinearOp>> ops;
    std::optional<Vec> inputDivisor;

    Mat input(const Mat& x) const
    {
        if (!inputDivisor)
            return x;
        Mat r = x;
        r.array().rowwise() /= inputDivisor->transpose().array();
        return r;
    }
};

class CandidateFactory {
public:
    CandidateFactory(std::vector<const Mat*> weights, std::vector<std::optional<Vec>> biases, const QuantConfig& config,
                     std::shared_ptr<compute::Backend> backend)
        : weights_(std::move(weights)), biases_(std::move(biases)), grid_{config.bits, config.symmetric},
          groupSize_(config.groupSize), backend_(std::move(backend))
    {
        for (const Mat* w : weights_)
            if (!canPackGroupwise(grid_, groupSize_, int(w->cols())))
                backend_.reset();
    }

    bool onBackend() const { return backend_ != nullptr; }
    double quantizeSeconds() const { return quantizeSeconds_; }

    Candidate make(const Vec& s)
    {
        const auto t0 = std::chrono::steady_clock::now();
        const bool unit = (s.array() == 1.0f).all();
        Candidate c;
        for (std::size_t j = 0; j < weights_.size(); ++j) {
            if (backend_) {
                auto q = std::make_shared<const compute::WeightMatrix>(
                    quantizeScaledGroupwise(*weights_[j], unit ? nullptr : &s, grid_, groupSize_));
                c.ops.push_back(std::make_shared<runtime::BackendLinear>(backend_, std::move(q), biases_[j]));
            } else {
                c.ops.push_back(
                    std::make_shared<runtime::DenseLinear>(fakeQuantizeScaled(*weights_[j], s, grid_, groupSize_), biases_[j]));
            }
        }
        if (backend_ && !unit)
            c.inputDivisor = s;
        quantizeSeconds_ += secondsSince(t0);
        return c;
    }

private:
    std::vector<const Mat*> weights_;
    std::vector<std::optional<Vec>> biases_;
    GroupGrid grid_;
    int groupSize_;
    std::shared_ptr<compute::Backend> backend_;
    double quantizeSeconds_ = 0;
};

Vec scalesOf(const AwqGroupChoice& c, const Vec& xMean, const Vec& wMean, const QuantConfig& config)
{
    if (c.keptRtn)
        return Vec::Ones(xMean.size());
    return awqScalesForRatio(xMean, wMean, c.ratio, config.awqXOnly);
}

} // namespace

AwqGroupChoice searchAwqRatio(const std::string& name, const Vec& xMean, const Vec& wMean, const QuantConfig& config,
                              const AwqScaleJudge& judge)
{
    const auto t0 = std::chrono::steady_clock::now();
    AwqGroupChoice c;
    c.name = name;
    c.searched = true;
    double best = std::numeric_limits<double>::infinity();
    int bestIndex = -1;
    for (int i = 0; i < config.awqGrid; ++i) {
        const float ratio = float(i) / float(config.awqGrid);
        const double err = judge(awqScalesForRatio(xMean, wMean, ratio, config.awqXOnly));
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
    c.rtnError = judge(Vec::Ones(xMean.size()));
    if (c.rtnError < c.error) {
        c.keptRtn = true;
        c.error = c.rtnError;
    }
    c.seconds = secondsSince(t0);
    return c;
}

AwqGroupChoice searchAwqRatio(const std::string& name, const Vec& xMean, const std::vector<Mat>& weights,
                              const QuantConfig& config, const AwqJudge& judge)
{
    std::vector<const Mat*> ptrs;
    for (const auto& w : weights)
        ptrs.push_back(&w);
    const GroupGrid grid{config.bits, config.symmetric};
    std::vector<Mat> fake(weights.size());
    return searchAwqRatio(name, xMean, awqWeightMean(ptrs, config.groupSize), config, [&](const Vec& s) {
        for (std::size_t j = 0; j < weights.size(); ++j)
            fake[j] = fakeQuantizeScaled(weights[j], s, grid, config.groupSize);
        return judge(fake);
    });
}

AwqBlockSearch searchAwqScales(runtime::Transformer& model, const calib::BlockCalibration& cal,
                               const QuantConfig& config, const AwqSearchOptions& options)
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
    AwqBlockSearch out;
    const auto t0 = std::chrono::steady_clock::now();
    const ModuleData d = gatherModuleData(model, block, *cal.inputs, options.maxTokens);
    out.gatherSeconds = secondsSince(t0);
    out.tokens = d.tokens;
    SlotRestorer restore(bw);
    std::array<Mat, 7> read;
    if (!options.weights)
        for (auto r : runtime::kAllLinearRoles)
            read[std::size_t(r)] = currentWeight(*restore.saved[std::size_t(r)]);
    const auto& weights = options.weights ? *options.weights : read;
    auto weightOf = [&](LinearRole r) -> const Mat& { return weights[std::size_t(r)]; };
    auto biasOf = [&](LinearRole r) { return currentBias(*restore.saved[std::size_t(r)]); };
    auto factoryFor = [&](std::initializer_list<LinearRole> roles) {
        std::vector<const Mat*> w;
        std::vector<std::optional<Vec>> b;
        for (auto r : roles) {
            w.push_back(&weightOf(r));
            b.push_back(biasOf(r));
        }
        return CandidateFactory(std::move(w), std::move(b), config, options.backend);
    };
    auto weightMean = [&](std::initializer_list<LinearRole> roles) {
        std::vector<const Mat*> w;
        for (auto r : roles)
            w.push_back(&weightOf(r));
        return awqWeightMean(w, config.groupSize);
    };
    auto finish = [&](AwqGroupChoice c, const CandidateFactory& f, std::optional<Vec>& slot, const Vec& xMean, const Vec& wMean) {
        c.quantizeSeconds = f.quantizeSeconds();
        slot = scalesOf(c, xMean, wMean, config);
        if (!f.onBackend())
            out.judgedOn = "f32 fake quantization (Eigen)";
        out.groups.push_back(std::move(c));
    };
    out.judgedOn = options.backend ? options.backend->name() : "f32 fake quantization (Eigen)";
    // One linear judged on its own output: o (input: v's outputs) and down (input: up's).
    auto judgeLinear = [](CandidateFactory& f, const Mat& in, const Mat& reference) {
        return [&f, &in, &reference](const Vec& s) {
            const Candidate c = f.make(s);
            Mat y;
            c.ops[0]->forward(c.input(in), y);
            return meanSquaredDiff(y, reference);
        };
    };

    // input_layernorm -> q,k,v, judged on the attention output.
    {
        auto f = factoryFor({LinearRole::Q, LinearRole::K, LinearRole::V});
        const Vec xMean = cal.site(calib::InputSite::Attention).meanAbs();
        const Vec wMean = weightMean({LinearRole::Q, LinearRole::K, LinearRole::V});
        auto judge = [&](const Vec& s) {
            const Candidate c = f.make(s);
            bw.linear(LinearRole::Q) = c.ops[0];
            bw.linear(LinearRole::K) = c.ops[1];
            bw.linear(LinearRole::V) = c.ops[2];
            double se = 0;
            std::int64_t n = 0;
            for (std::size_t i = 0; i < d.attentionIn.size(); ++i) {
                const Mat y = model.attention(block, c.input(d.attentionIn[i]));
                se += double((y - d.attentionOut[i]).squaredNorm());
                n += y.size();
            }
            bw.linears = restore.saved;
            return se / double(n);
        };
        finish(searchAwqRatio("input_layernorm -> q,k,v", xMean, wMean, config, judge), f, out.scales.qkv, xMean, wMean);
    }
    // v -> o, judged on o's output; the scaling needs v's outputs to be o's inputs one to one.
    {
        const auto& v = *restore.saved[std::size_t(LinearRole::V)];
        const auto& o = *restore.saved[std::size_t(LinearRole::O)];
        if (v.outFeatures() == o.inFeatures()) {
            auto f = factoryFor({LinearRole::O});
            const Vec xMean = cal.site(calib::InputSite::AttentionOutput).meanAbs();
            const Vec wMean = weightMean({LinearRole::O});
            finish(searchAwqRatio("v_proj -> o_proj", xMean, wMean, config, judgeLinear(f, d.oIn, d.oOut)), f,
                   out.scales.vo, xMean, wMean);
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
        auto f = factoryFor({LinearRole::Gate, LinearRole::Up});
        const Vec xMean = cal.site(calib::InputSite::Mlp).meanAbs();
        const Vec wMean = weightMean({LinearRole::Gate, LinearRole::Up});
        auto judge = [&](const Vec& s) {
            const Candidate c = f.make(s);
            bw.linear(LinearRole::Gate) = c.ops[0];
            bw.linear(LinearRole::Up) = c.ops[1];
            const Mat y = model.mlp(block, c.input(d.mlpIn));
            bw.linears = restore.saved;
            return meanSquaredDiff(y, d.mlpOut);
        };
        finish(searchAwqRatio("post_attention_layernorm -> gate,up", xMean, wMean, config, judge), f, out.scales.gateUp,
               xMean, wMean);
    }
    // up -> down, judged on down's output.
    {
        auto f = factoryFor({LinearRole::Down});
        const Vec xMean = cal.site(calib::InputSite::MlpDown).meanAbs();
        const Vec wMean = weightMean({LinearRole::Down});
        finish(searchAwqRatio("up_proj -> down_proj", xMean, wMean, config, judgeLinear(f, d.downIn, d.downOut)), f,
               out.scales.down, xMean, wMean);
    }
    return out;
}

} // namespace qs::quant
