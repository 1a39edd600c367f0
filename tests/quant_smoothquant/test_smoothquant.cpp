// SmoothQuant's pieces: the smoothing factors of a hand-computed 2x3 case (and the max over
// linears sharing an input, and the 1e-5 floors); smoothing folded into a block leaves its f32
// output unchanged; the W8A8 linear equals an int8 emulation written here and stays close to
// f32; with outlier input channels, smoothing lowers W8A8's error.
#include "quant_awq/quant_test_models.hpp"

#include "core/compute/backend.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "core/quant/w8a8_linear.hpp"

#include <QtTest/QtTest>

using namespace qs;
using namespace qs::quant;
using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

class TestSmoothQuant : public QObject {
    Q_OBJECT
private slots:
    void smoothingScalesByHand();
    void smoothingKeepsBlockOutput();
    void w8a8MatchesEmulation();
    void w8a8CloseToF32AndSmoothingHelps_data();
    void w8a8CloseToF32AndSmoothingHelps();
};

void TestSmoothQuant::smoothingScalesByHand()
{
    try {
        // W [2 out][3 in]; column absmax 1, 2, 3. Activation absmax 4, 1, 9.
        // alpha 0.5: s = sqrt(4)/sqrt(1) = 2, sqrt(1)/sqrt(2) = 0.70710678, sqrt(9)/sqrt(3) = 1.7320508.
        const Mat w = (Mat(2, 3) << 1.0f, -2.0f, 0.5f, -0.25f, 1.0f, -3.0f).finished();
        const Vec act = (Vec(3) << 4.0f, 1.0f, 9.0f).finished();
        const Vec s = smoothingScales(act, {&w}, 0.5f);
        QVERIFY(std::abs(s[0] - 2.0f) < 1e-6f);
        QVERIFY(std::abs(s[1] - 0.70710678f) < 1e-6f);
        QVERIFY(std::abs(s[2] - 1.7320508f) < 1e-6f);
        // alpha 1: s = act absmax (all difficulty to the weights); alpha 0: s = 1 / weight absmax.
        QVERIFY(smoothingScales(act, {&w}, 1.0f).isApprox(act));
        const Vec s0 = smoothingScales(act, {&w}, 0.0f);
        QVERIFY(std::abs(s0[1] - 0.5f) < 1e-6f && std::abs(s0[2] - 1.0f / 3.0f) < 1e-6f);
        // Two linears sharing the input: the max over both. w2's column 0 has absmax 16:
        // s0 = sqrt(4)/sqrt(16) = 0.5.
        const Mat w2 = (Mat(1, 3) << -16.0f, 0.0f, 0.0f).finished();
        QVERIFY(std::abs(smoothingScales(act, {&w, &w2}, 0.5f)[0] - 0.5f) < 1e-6f);
        // A dead activation channel: 0^0.5 / ... = 0, floored at 1e-5.
        const Vec dead = (Vec(3) << 0.0f, 1.0f, 1.0f).finished();
        QCOMPARE(smoothingScales(dead, {&w}, 0.5f)[0], 1e-5f);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestSmoothQuant::smoothingKeepsBlockOutput()
{
    try {
        std::mt19937 rng(std::random_device{}());
        auto model = test::randomNoGqaModel(rng);
        Mat x = test::randomMat(rng, 32, 128);
        x.col(3) *= 30.0f; // outlier channels, as smoothing meets them
        x.col(77) *= 20.0f;
        const Mat before = model.block(0, x, 0);
        // Absmax of the real norm outputs, as calibration would gather them.
        calib::BlockCalibration cal;
        calib::LinearInputStats attn(128, false, 0, 1), mlp(128, false, 0, 1);
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int, LinearRole r, const Mat& in) {
            if (r == LinearRole::Q)
                attn.add(in);
            if (r == LinearRole::Gate)
                mlp.add(in);
        };
        model.block(0, x, 0, nullptr, &hooks);
        cal.sites[0] = std::move(attn);
        cal.sites[2] = std::move(mlp);
        for (float alpha : {0.5f, 0.85f}) {
            runtime::Transformer smoothed = model;
            const auto s = computeSmoothingScales(smoothed.weights().blocks[0], cal, alpha);
            applySmoothing(smoothed.weights().blocks[0], s);
            const double err = test::relError(smoothed.block(0, x, 0), before);
            qInfo("alpha %.2f: scales %.3g..%.3g, block output rel. change %.2e", alpha, s.attention.minCoeff(),
                  s.attention.maxCoeff(), err);
            QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
            QVERIFY(s.attention.maxCoeff() / s.attention.minCoeff() > 2.0); // not a trivial rescaling
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestSmoothQuant::w8a8MatchesEmulation()
{
    try {
        std::mt19937 rng(std::random_device{}());
        const Mat w = test::randomMat(rng, 48, 96, 0.1f);
        const Mat x = test::randomMat(rng, 20, 96);
        const std::optional<Vec> bias = Vec(test::randomMat(rng, 48, 1).col(0));
        auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        auto q = std::make_shared<const compute::WeightMatrix>(quantizeInt8PerChannel(w));
        for (float staticScale : {0.0f, 0.02f}) {
            W8A8Linear op(backend, q, bias, staticScale);
            Mat y;
            op.forward(x, y);
            // Emulation: codes and scales by the formulas, exact integer dot products.
            Mat expect(x.rows(), w.rows());
            for (int t = 0; t < x.rows(); ++t) {
                const float sx = staticScale > 0 ? staticScale : std::max(x.row(t).cwiseAbs().maxCoeff(), 1e-5f) / 127.0f;
                for (int n = 0; n < w.rows(); ++n) {
                    const float sw = w.row(n).cwiseAbs().maxCoeff() / 127.0f;
                    std::int64_t acc = 0;
                    for (int k = 0; k < w.cols(); ++k) {
                        const long qx = std::lround(std::clamp(std::nearbyint(x(t, k) / sx), -127.0f, 127.0f));
                        const long qw = std::lround(std::nearbyint(w(n, k) / sw));
                        acc += qx * qw;
                    }
                    expect(t, n) = float(double(acc) * sx * sw) + (*bias)[n];
                }
            }
            const double err = test::relError(y, expect);
            QVERIFY2(err < 1e-6, qPrintable(QString::number(err)));
        }
        // A static scale small enough to saturate still gives codes within +-127.
        const auto a = quantizeActivationsPerTensor(x, 1e-3f);
        for (auto c : a.q)
            QVERIFY(c >= -127 && c <= 127);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestSmoothQuant::w8a8CloseToF32AndSmoothingHelps_data()
{
    QTest::addColumn<bool>("perTensorStatic");
    QTest::newRow("per-token dynamic") << false;
    QTest::newRow("per-tensor static") << true;
}

void TestSmoothQuant::w8a8CloseToF32AndSmoothingHelps()
{
    QFETCH(bool, perTensorStatic);
    try {
        std::mt19937 rng(std::random_device{}());
        const int n = 128, k = 256;
        const Mat w = test::randomMat(rng, n, k, 0.05f);
        Mat x = test::randomMat(rng, 64, k);
        // A few outlier channels, 30-60x the rest, as in LLM activations.
        for (int c : {7, 91, 200})
            x.col(c) *= 30.0f + float(c % 31);
        const Mat ref = x * w.transpose(); // the f32 reference
        auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        auto run = [&](const Mat& wq, const Mat& xin) {
            const float sx = perTensorStatic ? xin.cwiseAbs().maxCoeff() / 127.0f : 0.0f;
            W8A8Linear op(backend, std::make_shared<const compute::WeightMatrix>(quantizeInt8PerChannel(wq)),
                          std::nullopt, sx);
            Mat y;
            op.forward(xin, y);
            return y;
        };
        // Plain W8A8 on inputs without outliers: close to f32.
        const Mat xPlainIn = test::randomMat(rng, 64, k);
        const double clean = test::relError(run(w, xPlainIn), xPlainIn * w.transpose());
        // With outliers: plain W8A8, then smoothed (alpha 0.5) W8A8.
        const double plain = test::relError(run(w, x), ref);
        const Vec act = x.cwiseAbs().colwise().maxCoeff().transpose();
        const Vec s = smoothingScales(act, {&w}, 0.5f);
        Mat ws = w;
        ws.array().rowwise() *= s.transpose().array();
        Mat xs = x;
        xs.array().rowwise() /= s.transpose().array();
        const double smooth = test::relError(run(ws, xs), ref);
        qInfo("%s: rel. error vs f32, no outliers %.4f; with outliers: plain W8A8 %.4f, smoothed %.4f",
              perTensorStatic ? "per-tensor static" : "per-token dynamic", clean, plain, smooth);
        QVERIFY2(clean < 2e-2, qPrintable(QString::number(clean)));
        QVERIFY2(smooth < 2e-2, qPrintable(QString::number(smooth)));
        QVERIFY2(smooth < plain, "smoothing must lower W8A8's error on outlier channels");
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestSmoothQuant)
#include "test_smoothquant.moc"
