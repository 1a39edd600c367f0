// SmoothQuant on the demo model (8 samples x 128 tokens of calibration.txt): the smoothing
// computed from block 0's calibration absmax leaves the block's f32 output unchanged; W8A8
// through quantizeModel (per-token dynamic and per-tensor static activations) reports KL and
// top-1 against the original on 8 windows of 256 tokens of evaluation.txt; block 0 quantized
// twice computes the same (deterministic for a seed).
#include "quant_awq/quant_test_models.hpp"

#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "core/eval/model_eval.hpp"
#include "core/quant/methods.hpp"
#include "core/quant/pipeline.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "core/quant/w8a8_linear.hpp"

#include <QtTest/QtTest>

using namespace qs;
using namespace qs::quant;
using runtime::LinearRole;
using runtime::Mat;

class TestSmoothQuantDemo : public QObject {
    Q_OBJECT
private slots:
    void smoothingKeepsDemoBlock();
    void quantizeModelKl_data();
    void quantizeModelKl();
};

void TestSmoothQuantDemo::smoothingKeepsDemoBlock()
{
    if (!test::haveDemo())
        QSKIP("demo model missing");
    try {
        auto m = model::openModel(test::demoDir().string());
        QVERIFY2(m.tokenizer, m.tokenizerError.c_str());
        runtime::Transformer tf(runtime::loadLlamaWeights(m));
        const auto set = test::demoCalibration(m);
        calib::CaptureOptions opt;
        opt.hessian = false;
        bool ran = false;
        calib::streamCalibration(tf, set, opt, [&](calib::BlockCalibration& cal) {
            if (cal.block != 0)
                return;
            ran = true;
            for (float alpha : {0.5f, 0.85f}) {
                runtime::Transformer smoothed = tf;
                const auto s = computeSmoothingScales(smoothed.weights().blocks[0], cal, alpha);
                applySmoothing(smoothed.weights().blocks[0], s);
                double worst = 0;
                for (const Mat& x : *cal.inputs)
                    worst = std::max(worst, test::relError(smoothed.block(0, x, 0), tf.block(0, x, 0)));
                const auto& a = cal.site(calib::InputSite::Attention).absmax();
                qInfo("alpha %.2f: q,k,v input absmax max/median %.1f; scales %.3g..%.3g; block output change %.2e",
                      alpha, a.maxCoeff() / a.mean(), s.attention.minCoeff(), s.attention.maxCoeff(), worst);
                QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
            }
            // Deterministic for a seed: block 0 quantized twice computes the same.
            QuantConfig cfg;
            cfg.method = "smoothquant";
            cfg.bits = 8;
            cfg.seed = 3;
            auto method = makeSmoothQuantMethod(cfg);
            MethodContext ctx{compute::makeCpuBackend(), &cfg, nullptr};
            runtime::Transformer a = tf, b = tf;
            std::vector<LayerReport> ra, rb;
            method->quantizeBlock(a, &cal, ctx, ra);
            method->quantizeBlock(b, &cal, ctx, rb);
            for (std::size_t i = 0; i < ra.size(); ++i)
                QCOMPARE(ra[i].choices.dump(), rb[i].choices.dump());
            const Mat& x = cal.inputs->front();
            QVERIFY(a.block(0, x, 0) == b.block(0, x, 0));
        });
        QVERIFY(ran);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestSmoothQuantDemo::quantizeModelKl_data()
{
    QTest::addColumn<bool>("perTensorStatic");
    QTest::addColumn<float>("alpha");
    QTest::newRow("per-token dynamic, alpha 0.5") << false << 0.5f;
    QTest::newRow("per-tensor static, alpha 0.5") << true << 0.5f;
}

void TestSmoothQuantDemo::quantizeModelKl()
{
    QFETCH(bool, perTensorStatic);
    QFETCH(float, alpha);
    if (!test::haveDemo())
        QSKIP("demo model missing");
    try {
        auto m = model::openModel(test::demoDir().string());
        QVERIFY2(m.tokenizer, m.tokenizerError.c_str());
        const runtime::Transformer original(runtime::loadLlamaWeights(m));
        const auto set = test::demoCalibration(m);
        const auto reference = eval::computeReference(original, test::demoEvaluationTokens(m), 256, 8);
        auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        QuantConfig cfg;
        cfg.method = "smoothquant";
        cfg.bits = 8;
        cfg.alpha = alpha;
        cfg.activationQuant = perTensorStatic ? ActivationQuant::PerTensorStatic : ActivationQuant::PerTokenDynamic;
        cfg.seed = 3;
        runtime::Transformer a = original;
        const auto run = quantizeModel(a, cfg, &set, backend);
        const auto e = eval::evaluateAgainst(reference, a);
        qInfo("demo SmoothQuant W8A8 (%s, alpha %.2f): %.2f s, %.3f bits/weight, mean layer error %.4f (worst %.4f)",
              perTensorStatic ? "per-tensor static" : "per-token dynamic", alpha, run.seconds, run.bitsPerWeight,
              run.meanOutputError(), run.worstOutputError());
        qInfo("  KL vs original %.6f, top-1 %.4f, ppl %.3f (original %.3f) over %lld positions", e.vsOriginal.meanKl,
              e.vsOriginal.top1Agreement, e.perplexity.perplexity(), reference.perplexity.perplexity(),
              static_cast<long long>(e.vsOriginal.positions));
        QCOMPARE(int(run.layers.size()), 6 * 7);
        for (const auto& l : run.layers) {
            QCOMPARE(QString::fromStdString(l.format), QString("int8-channel"));
            const auto* op = dynamic_cast<const W8A8Linear*>(a.weights().blocks[std::size_t(l.block)].linear(l.role).get());
            QVERIFY(op);
            QCOMPARE(op->staticScale() > 0, perTensorStatic);
        }
        QVERIFY(std::isfinite(e.vsOriginal.meanKl));
        QVERIFY2(e.vsOriginal.meanKl < (perTensorStatic ? 0.05 : 0.01), "W8A8 should barely move the distribution");
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestSmoothQuantDemo)
#include "test_smoothquant_demo.moc"
