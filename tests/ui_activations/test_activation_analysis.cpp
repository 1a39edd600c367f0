// The activation inspector's numbers (core/analysis, no Qt widgets): the O(channels) scales equal
// the method's smoothingScales, the range spreads follow the closed form of the power law, the
// int8 errors equal an independent scalar fake-quant (smoothquant's fake_quant.py rounding) on
// fresh random inputs, the outlier rule flags exactly what it states, and the demo profile holds
// every linear with consistent statistics.
#include "common/test_support.hpp"
#include "core/analysis/smoothing_preview.hpp"
#include "core/calib/calibration_set.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "core/runtime/transformer.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace qs;
using runtime::Mat;
using runtime::Vec;

namespace {

// Activations with a few outlier channels (x30), weights N(0, 0.05): the shape SmoothQuant targets.
Mat randomActivations(int rows, int k, std::mt19937& rng)
{
    std::normal_distribution<float> n(0.0f, 1.0f);
    Mat x(rows, k);
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < k; ++j)
            x(r, j) = n(rng) * (j % 37 == 5 ? 30.0f : 1.0f);
    return x;
}

Mat randomWeights(int n, int k, std::mt19937& rng)
{
    std::normal_distribution<float> d(0.0f, 0.05f);
    Mat w(n, k);
    for (int i = 0; i < n * k; ++i)
        w.data()[i] = d(rng);
    return w;
}

// Independent fake quantization: symmetric int8, absmax / 127 per row (floor 1e-5), rounding
// half to even as torch.round.
Mat fakeQuantRows(const Mat& a)
{
    Mat out(a.rows(), a.cols());
    for (Eigen::Index r = 0; r < a.rows(); ++r) {
        const float scale = std::max(a.row(r).cwiseAbs().maxCoeff(), 1e-5f) / 127.0f;
        for (Eigen::Index j = 0; j < a.cols(); ++j)
            out(r, j) = std::clamp(std::nearbyint(a(r, j) / scale), -127.0f, 127.0f) * scale;
    }
    return out;
}

double rel(const Mat& a, const Mat& ref) { return double((a - ref).norm()) / double(ref.norm()); }

} // namespace

class TestActivationAnalysis : public QObject {
    Q_OBJECT
private slots:
    void scalesMatchTheMethod()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            const int k = 96;
            const Mat x = randomActivations(40, k, rng), q = randomWeights(64, k, rng), v = randomWeights(32, k, rng);
            const Vec a = x.cwiseAbs().colwise().maxCoeff().transpose();
            for (float alpha : {0.0f, 0.3f, 0.5f, 0.85f, 1.0f}) {
                const Vec s1 = quant::smoothingScales(a, {&q, &v}, alpha);
                const Vec s2 = quant::smoothingScalesFromAbsmax(a, quant::weightColumnAbsmax({&q, &v}, k), alpha);
                QCOMPARE(double((s1 - s2).cwiseAbs().maxCoeff()), 0.0);
            }
            QVERIFY_THROWS_EXCEPTION(Error, quant::smoothingScalesFromAbsmax(a, Vec::Ones(k - 1), 0.5f));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // max|X_j|/s_j = (a_j w_j)^(1-alpha) and max|W_j| s_j = (a_j w_j)^alpha when the linear is
    // its own smoothing group: the spreads (max / median, an order statistic) are powers of the
    // spread of a*w.
    void spreadsFollowThePowerLaw()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            const int k = 101; // odd: the median is one element
            const Mat x = randomActivations(50, k, rng), w = randomWeights(48, k, rng);
            analysis::InputSiteProfile site;
            site.absmax = x.cwiseAbs().colwise().maxCoeff().transpose();
            analysis::LinearProfile lin;
            lin.weightAbsmax = lin.groupWeightAbsmax = w.cwiseAbs().colwise().maxCoeff().transpose();
            const double base = analysis::spreadOf(site.absmax.cwiseProduct(lin.weightAbsmax));
            double lastX = INFINITY, lastW = 0;
            for (float alpha : {0.1f, 0.3f, 0.5f, 0.7f, 0.9f}) {
                const auto p = analysis::previewSmoothing(lin, site, alpha);
                const double ex = std::pow(base, 1.0 - alpha), ew = std::pow(base, double(alpha));
                QVERIFY2(std::fabs(p.activationSpread - ex) / ex < 1e-4, qPrintable(QString::number(p.activationSpread)));
                QVERIFY2(std::fabs(p.weightSpread - ew) / ew < 1e-4, qPrintable(QString::number(p.weightSpread)));
                QVERIFY(p.activationSpread < lastX && p.weightSpread > lastW);
                lastX = p.activationSpread;
                lastW = p.weightSpread;
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void int8ErrorsMatchScalarReference()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            const int k = 128, n = 80;
            const Mat x = randomActivations(24, k, rng), w = randomWeights(n, k, rng);
            const Vec a = x.cwiseAbs().colwise().maxCoeff().transpose();
            const Vec s = quant::smoothingScales(a, {&w}, 0.5f);
            const auto e = analysis::int8ErrorAfterSmoothing(x, w, s, a);
            Mat xs = x, ws = w;
            xs.array().rowwise() /= s.transpose().array();
            ws.array().rowwise() *= s.transpose().array();
            const Mat xq = fakeQuantRows(xs), wq = fakeQuantRows(ws);
            Mat one(1, xs.size());
            one.row(0) = Eigen::Map<const Eigen::RowVectorXf>(xs.data(), xs.size());
            Mat tq = fakeQuantRows(one); // per tensor: absmax of X/s over the sample = calibration absmax here
            const Mat xqt = Eigen::Map<const Mat>(tq.data(), xs.rows(), xs.cols());
            const double refs[] = {rel(xq, xs), rel(xqt, xs), rel(wq, ws), rel(xq * wq.transpose(), x * w.transpose())};
            const double got[] = {e.activationPerToken, e.activationPerTensor, e.weight, e.output};
            for (int i = 0; i < 4; ++i)
                QVERIFY2(std::fabs(got[i] - refs[i]) <= 1e-3 * refs[i],
                         qPrintable(QStringLiteral("error %1: %2 vs reference %3").arg(i).arg(got[i]).arg(refs[i])));
            // Absmax int8 is scale invariant: a uniform s = 4 (a power of two, exact in f32)
            // changes no relative error.
            const auto unit = analysis::int8ErrorAfterSmoothing(x, w, Vec::Ones(k), a);
            const auto four = analysis::int8ErrorAfterSmoothing(x, w, Vec::Constant(k, 4.0f), a);
            QCOMPARE(four.activationPerToken, unit.activationPerToken);
            QCOMPARE(four.activationPerTensor, unit.activationPerTensor);
            QCOMPARE(four.weight, unit.weight);
            QVERIFY_THROWS_EXCEPTION(Error, analysis::int8ErrorAfterSmoothing(x, w.leftCols(k - 1), s, a));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void outlierRule()
    {
        Vec v(9);
        v << 1, 2, 3, 4, 5, 29.9f, 30.1f, 6, 7; // median 5 -> threshold 30
        const auto o = analysis::activationOutliers(v);
        QCOMPARE(o.threshold, 30.0);
        QCOMPARE(o.channels, std::vector<int>{6});
        QVERIFY(analysis::activationOutliers(Vec()).channels.empty());
    }

    void demoProfile()
    {
        try {
            auto model = model::openModel("demo");
            QVERIFY(model.tokenizer);
            const auto text = test::readFile(io::demoModelPath() / "calibration.txt");
            const auto set = calib::sampleWindows(model.tokenizer->encode(text), 2, 48, 7);
            runtime::Transformer tf(runtime::loadLlamaWeights(model));
            const auto p = analysis::profileActivations(tf, set, 16, 7);
            const int blocks = int(model.spec.numLayers);
            QCOMPARE(int(p.linears.size()), 7 * blocks);
            QCOMPARE(int(p.sites.size()), 4 * blocks);
            for (const auto& s : p.sites) {
                QCOMPARE(s.tokens, std::int64_t(96));
                QCOMPARE(int(s.sample.rows()), 16);
                QVERIFY((s.absmax.array() >= s.meanAbs.array()).all());
                QVERIFY((s.meanSquare.array() >= s.meanAbs.array().square() * 0.999f).all()); // Jensen
                QCOMPARE(double(s.sample.cwiseAbs().maxCoeff()) <= double(s.absmax.maxCoeff()), true);
            }
            // The q group's weight absmax is max over q, k, v as read from the checkpoint.
            const int i = p.indexOf(1, runtime::LinearRole::K);
            QVERIFY(i >= 0);
            Vec expect = Vec::Zero(p.linears[std::size_t(i)].groupWeightAbsmax.size());
            for (const char* r : {"q_proj", "k_proj", "v_proj"}) {
                const Tensor t = model.checkpoint->readF32(std::string("model.layers.1.self_attn.") + r + ".weight");
                const Eigen::Map<const Mat> m(t.data.data(), Eigen::Index(t.shape[0]), Eigen::Index(t.shape[1]));
                expect = expect.cwiseMax(m.cwiseAbs().colwise().maxCoeff().transpose());
            }
            QCOMPARE(double((expect - p.linears[std::size_t(i)].groupWeightAbsmax).cwiseAbs().maxCoeff()), 0.0);
            QVERIFY(p.linears[std::size_t(i)].smoothedByMethod);
            QVERIFY(!p.linears[std::size_t(p.indexOf(1, runtime::LinearRole::Down))].smoothedByMethod);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestActivationAnalysis)
#include "test_activation_analysis.moc"
