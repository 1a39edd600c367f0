// AWQ's pieces against hand-computed values and published properties: the scale formula
// (duo and x-only) and AutoAWQ's w_mean; folding scales into a block leaves its f32 output
// unchanged (every group, v -> o and biases included); the ratio search picks r > 0 when one
// input channel carries huge activations and then beats RTN; the clip search never loses to
// no clipping and shrinks ranges when an outlier weight dominates a group; the clip search's
// Gram-matrix form gives the direct form's candidate errors and choices; the scale search judged
// on the CPU backend (and the Vulkan one where there is a device) in the kernels' int4 format
// gives the f32 fake-quantization reference's errors and ratios.
#include "quant_awq/quant_test_models.hpp"

#include "core/quant/awq_clip.hpp"
#include "core/quant/awq_scaling.hpp"
#include "core/quant/awq_search.hpp"
#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "quant_awq/awq_search_compare.hpp"

#include <QtTest/QtTest>

using namespace qs;
using namespace qs::quant;
using runtime::LinearRole;
using runtime::Mat;
using runtime::Vec;

class TestAwqScaling : public QObject {
    Q_OBJECT
private slots:
    void scaleFormulaByHand();
    void weightMeanByHand();
    void foldingKeepsBlockOutput();
    void ratioSearchFavoursOutlierChannel_data();
    void ratioSearchFavoursOutlierChannel();
    void clipSearchNeverWorse();
    void clipGramEqualsDirect_data();
    void clipGramEqualsDirect();
    void searchOnBackendsMatchesReference();
};

void TestAwqScaling::scaleFormulaByHand()
{
    try {
        const Vec x = (Vec(3) << 1.0f, 4.0f, 9.0f).finished();
        const Vec w = (Vec(3) << 0.25f, 1.0f, 0.25f).finished();
        // x-only, r = 0.5: sqrt(x) = 1, 2, 3; / sqrt(3 * 1).
        const Vec a = awqScalesForRatio(x, w, 0.5f, true);
        QVERIFY(std::abs(a[0] - 1.0f / std::sqrt(3.0f)) < 1e-6f);
        QVERIFY(std::abs(a[1] - 2.0f / std::sqrt(3.0f)) < 1e-6f);
        QVERIFY(std::abs(a[2] - 3.0f / std::sqrt(3.0f)) < 1e-6f);
        // duo, r = 0.5: sqrt(x) / (sqrt(w) + 1e-4) = 1/0.5001, 2/1.0001, 3/0.5001
        // = 1.99960, 1.99980, 5.99880; normalized by sqrt(max * min) = sqrt(5.99880 * 1.99960).
        const Vec b = awqScalesForRatio(x, w, 0.5f, false);
        const double raw[3] = {1.0 / 0.5001, 2.0 / 1.0001, 3.0 / 0.5001};
        const double norm = std::sqrt(raw[2] * raw[0]);
        for (int i = 0; i < 3; ++i)
            QVERIFY2(std::abs(b[i] - raw[i] / norm) < 1e-5, qPrintable(QString::number(b[i])));
        // r = 0, x-only: all ones (the RTN baseline).
        QVERIFY((awqScalesForRatio(x, w, 0.0f, true).array() == 1.0f).all());
        // A dead channel is floored at 1e-4 before normalizing: x = 0 -> 1e-4.
        const Vec dead = awqScalesForRatio((Vec(2) << 0.0f, 1.0f).finished(), Vec::Ones(2), 0.5f, true);
        QVERIFY(std::abs(dead[0] - 1e-4f / std::sqrt(1e-4f)) < 1e-6f);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqScaling::weightMeanByHand()
{
    try {
        // Groups of 2: row 0 [1 -2 | 3 0.5], row 1 [4 2 | -1 -1]; |w| / group absmax:
        // row 0 [0.5 1 | 1 1/6], row 1 [1 0.5 | 1 1]; mean over rows [0.75 0.75 1 7/12].
        const Mat w = (Mat(2, 4) << 1, -2, 3, 0.5f, 4, 2, -1, -1).finished();
        const Vec m = awqWeightMean({&w}, 2);
        const float expect[4] = {0.75f, 0.75f, 1.0f, 7.0f / 12.0f};
        for (int i = 0; i < 4; ++i)
            QVERIFY2(std::abs(m[i] - expect[i]) < 1e-5f, qPrintable(QString::number(m[i])));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqScaling::foldingKeepsBlockOutput()
{
    try {
        std::mt19937 rng(std::random_device{}());
        auto model = test::randomNoGqaModel(rng);
        const Mat x = test::randomMat(rng, 24, 128);
        const Mat before = model.block(0, x, 0);
        AwqBlockScales s;
        s.qkv = test::randomPositive(rng, 128, 0.2f, 5.0f);
        s.vo = test::randomPositive(rng, 128, 0.2f, 5.0f);
        s.gateUp = test::randomPositive(rng, 128, 0.2f, 5.0f);
        s.down = test::randomPositive(rng, 256, 0.2f, 5.0f);
        applyAwqScales(model.weights().blocks[0], s);
        const Mat after = model.block(0, x, 0);
        const double err = test::relError(after, before);
        qInfo("random scales in [0.2, 5] on all four groups: block output rel. change %.2e", err);
        QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
        // The weights did change (the test is not vacuous).
        QVERIFY(awqInputScale(s, LinearRole::O, 128).isApprox(*s.vo));
        QVERIFY(awqOutputScale(s, LinearRole::Up, 256).isApprox(*s.down));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqScaling::ratioSearchFavoursOutlierChannel_data()
{
    QTest::addColumn<bool>("xOnly");
    QTest::newRow("duo (AutoAWQ)") << false;
    QTest::newRow("x-only (llm-awq)") << true;
}

void TestAwqScaling::ratioSearchFavoursOutlierChannel()
{
    QFETCH(bool, xOnly);
    try {
        std::mt19937 rng(std::random_device{}());
        // One linear, 4-bit groups of 32; input channel 5 carries activations 40x the others.
        const int n = 64, k = 128, tokens = 256;
        const Mat w = test::randomMat(rng, n, k, 0.05f);
        Mat x = test::randomMat(rng, tokens, k);
        x.col(5) *= 40.0f;
        const Mat y = x * w.transpose();
        QuantConfig cfg;
        cfg.groupSize = 32;
        cfg.awqXOnly = xOnly;
        const Vec xMean = x.cwiseAbs().colwise().mean().transpose();
        auto judge = [&](const std::vector<Mat>& f) {
            return double((x * f[0].transpose() - y).squaredNorm()) / double(y.size());
        };
        const auto c = searchAwqRatio("linear", xMean, {w}, cfg, judge);
        qInfo("%s: ratio %.2f, mse %.3e, RTN mse %.3e (%.2fx)", xOnly ? "x-only" : "duo", c.ratio, c.error, c.rtnError,
              c.rtnError / c.error);
        QCOMPARE(int(c.errors.size()), cfg.awqGrid);
        QVERIFY2(c.ratio > 0.0f, "the search must scale the salient channel up");
        QVERIFY(c.error <= c.rtnError);
        QVERIFY2(c.error < 0.8 * c.rtnError, "a 40x channel should cost RTN clearly more than AWQ");
        if (xOnly)
            QCOMPARE(c.errors[0], c.rtnError); // r = 0 is RTN exactly
        // The chosen scale favours channel 5 most.
        std::vector<const Mat*> ws = {&w};
        const Vec s = awqScalesForRatio(xMean, awqWeightMean(ws, 32), c.ratio, xOnly);
        Eigen::Index top;
        s.maxCoeff(&top);
        QCOMPARE(int(top), 5);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqScaling::clipSearchNeverWorse()
{
    try {
        std::mt19937 rng(std::random_device{}());
        const int n = 32, k = 256;
        Mat w = test::randomMat(rng, n, k, 0.05f);
        for (int r = 0; r < n; ++r)
            w(r, (r * 37) % k) = 0.6f; // one large weight per row stretches its group's range
        const Mat x = test::randomMat(rng, 200, k);
        const GroupGrid grid{4, false};
        const auto c = searchAwqClip(w, x, grid, 128);
        qInfo("clip: mean shrink %.3f, min %.2f, clipped %.0f%%, group error %.3e -> %.3e", c.meanShrink, c.minShrink,
              100.0 * c.fractionClipped, c.errorUnclipped, c.errorClipped);
        QCOMPARE(c.maxVal.rows(), Eigen::Index(n));
        QCOMPARE(c.maxVal.cols(), Eigen::Index(2));
        QVERIFY(c.errorClipped <= c.errorUnclipped);
        QVERIFY(c.minShrink >= 0.55 - 1e-6); // 1 - 9/20: AutoAWQ's grid stops before 0.5
        QVERIFY(c.fractionClipped > 0.0);
        // Applying the clamps: no weight exceeds its group's chosen max.
        Mat clipped = w;
        applyAwqClip(clipped, c.maxVal, 128);
        for (int r = 0; r < n; ++r)
            for (int col = 0; col < k; ++col)
                QVERIFY(std::abs(clipped(r, col)) <= c.maxVal(r, col / 128));
        // And the chosen clamps give the summed group error reported, below RTN's on the output.
        const Mat yRef = x * w.transpose();
        const Mat rtn = dequantizeGroupwise(quantizeGroupwise(w, grid, 128), n, k);
        const Mat awq = dequantizeGroupwise(quantizeGroupwise(clipped, grid, 128), n, k);
        const double eRtn = test::relError(x * rtn.transpose(), yRef);
        const double eClip = test::relError(x * awq.transpose(), yRef);
        qInfo("output rel. error: RTN %.4f, clipped %.4f", eRtn, eClip);
        QVERIFY(eClip < eRtn);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqScaling::clipGramEqualsDirect_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("groupSize");
    QTest::newRow("w4 g128 asym") << 4 << false << 128;
    QTest::newRow("w3 g64 sym") << 3 << true << 64;
    QTest::newRow("w4 per channel asym") << 4 << false << 0;
}

// The Gram form's candidate errors equal the direct form's (normalized error < 1e-4: both are
// f32 products, the Gram form's d^T G d has no cancellation, the direct form's difference of two
// outputs loses about 1e-6 relative) and it chooses the same clamp for every row and group but
// near-ties (the two candidates' direct errors within 1e-4 relative).
void TestAwqScaling::clipGramEqualsDirect()
{
    QFETCH(int, bits);
    QFETCH(bool, symmetric);
    QFETCH(int, groupSize);
    try {
        std::mt19937 rng(std::random_device{}());
        const int n = 96, k = 256, tokens = 160;
        Mat w = test::randomMat(rng, n, k, 0.05f);
        for (int r = 0; r < n; r += 3)
            w(r, (r * 29) % k) = 0.5f; // outliers, so some groups are clipped and some not
        Mat x = test::randomMat(rng, tokens, k);
        x.col(7) *= 20.0f; // a salient channel, as AWQ's scaled inputs have
        const GroupGrid grid{bits, symmetric};
        const auto gram = awqClipCandidateErrors(w, x, grid, groupSize, 20, 0.5f, AwqClipForm::Gram);
        const auto direct = awqClipCandidateErrors(w, x, grid, groupSize, 20, 0.5f, AwqClipForm::Direct);
        QCOMPARE(gram.errors.size(), std::size_t(10));
        QCOMPARE(direct.errors.size(), gram.errors.size());
        double diff2 = 0, ref2 = 0;
        for (std::size_t i = 0; i < gram.errors.size(); ++i) {
            diff2 += (gram.errors[i] - direct.errors[i]).squaredNorm();
            ref2 += direct.errors[i].squaredNorm();
        }
        const double normErr = std::sqrt(diff2 / ref2);
        QVERIFY(gram.orgMax == direct.orgMax);

        const auto a = searchAwqClip(w, x, grid, groupSize, 20, 0.5f, AwqClipForm::Gram);
        const auto b = searchAwqClip(w, x, grid, groupSize, 20, 0.5f, AwqClipForm::Direct);
        int differ = 0;
        for (Eigen::Index r = 0; r < a.maxVal.rows(); ++r)
            for (Eigen::Index g = 0; g < a.maxVal.cols(); ++g) {
                if (a.maxVal(r, g) == b.maxVal(r, g))
                    continue;
                ++differ;
                auto errorAt = [&](float m) {
                    for (std::size_t i = 0; i < direct.shrinks.size(); ++i)
                        if (direct.orgMax(r, g) * direct.shrinks[i] == m)
                            return direct.errors[i](r, g);
                    return -1.0;
                };
                const double ea = errorAt(a.maxVal(r, g)), eb = errorAt(b.maxVal(r, g));
                QVERIFY(ea >= 0 && eb >= 0);
                QVERIFY2(std::abs(ea - eb) <= 1e-4 * eb, qPrintable(QString("row %1 group %2: %3 vs %4").arg(r).arg(g).arg(ea).arg(eb)));
            }
        qInfo("w%d %s g%d: candidate errors Gram vs direct, normalized error %.2e; chosen clamps differ in %d of %d "
              "(near-ties); clipped %.0f%%",
              bits, symmetric ? "sym" : "asym", groupSize, normErr, differ, int(a.maxVal.size()), 100.0 * a.fractionClipped);
        QVERIFY2(normErr < 1e-4, qPrintable(QString::number(normErr)));
        QVERIFY(a.fractionClipped > 0.0);
        QVERIFY(std::abs(a.errorClipped - b.errorClipped) <= 1e-4 * b.errorClipped);
        QVERIFY(std::abs(a.errorUnclipped - b.errorUnclipped) <= 1e-4 * b.errorUnclipped);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// The search with every candidate run as (X / s) Q(W s)^T through the backend's dequant-GEMM
// against the f32 reference X (Q(W s) / s)^T, on a random block without GQA (all four groups,
// q/k/v biases). CPU backend: judged errors within 1e-4 (normalized; f32 rounding only) and the
// same ratios but near-ties (reference errors within 1e-4). Vulkan (lavapipe in CI, the f32
// portable kernel; cooperative matrices take X in f16 from 64 rows): 1e-2 and 1%.
void TestAwqScaling::searchOnBackendsMatchesReference()
{
    try {
        std::mt19937 rng(std::random_device{}());
        auto model = test::randomNoGqaModel(rng);
        calib::CalibrationSet set;
        set.length = 48;
        std::uniform_int_distribution<int> tok(0, 63);
        for (int i = 0; i < 3; ++i) {
            std::vector<std::int32_t> sample(48);
            for (auto& t : sample)
                t = tok(rng);
            set.samples.push_back(std::move(sample));
        }
        QuantConfig cfg;
        cfg.groupSize = 32;
        std::shared_ptr<compute::Backend> cpu = compute::makeCpuBackend();
        std::shared_ptr<compute::Backend> gpu = compute::makeBackend(true);
        bool ran = false;
        calib::streamCalibration(model, set, calib::CaptureOptions::withoutHessian(0), [&](calib::BlockCalibration& cal) {
            ran = true;
            const auto reference = searchAwqScales(model, cal, cfg, {});
            QCOMPARE(QString::fromStdString(reference.judgedOn), QString("f32 fake quantization (Eigen)"));
            AwqSearchOptions onCpu;
            onCpu.backend = cpu;
            const auto c = searchAwqScales(model, cal, cfg, onCpu);
            QCOMPARE(QString::fromStdString(c.judgedOn), QString::fromStdString(cpu->name()));
            test::AwqSearchDifference dc;
            QVERIFY(test::compareAwqSearches(reference, c, 1e-4, 1e-4, "cpu:", dc));
            QCOMPARE(dc.groups, 4);
            qInfo("cpu backend: worst judged-error difference %.2e, %d of 4 ratios differ", dc.worstErrorDiff,
                  dc.ratiosDiffering);
            if (!gpu->isGpu())
                return;
            AwqSearchOptions onGpu;
            onGpu.backend = gpu;
            const auto g = searchAwqScales(model, cal, cfg, onGpu);
            test::AwqSearchDifference dg;
            QVERIFY(test::compareAwqSearches(reference, g, 1e-2, 1e-2, gpu->name() + ":", dg));
            qInfo("%s: worst judged-error difference %.2e, %d of 4 ratios differ", gpu->name().c_str(), dg.worstErrorDiff,
                  dg.ratiosDiffering);
        });
        QVERIFY(ran);
        // The search leaves the block as it was.
        QVERIFY(dynamic_cast<const runtime::DenseLinear*>(model.weights().blocks[0].linear(LinearRole::Q).get()) != nullptr);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestAwqScaling)
#include "test_awq_scaling.moc"
