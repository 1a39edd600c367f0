// AWQ on the demo model (real calibration data: 8 samples x 128 tokens of calibration.txt):
// the searched scales, folded into block 0, leave its f32 output unchanged; AWQ's module errors
// on block 0 (attention, MLP, whole block) are at most RTN's; quantizeModel end to end reports
// KL / top-1 against the original (and RTN's) on 8 windows of 256 tokens of evaluation.txt;
// block 0 quantized twice gives identical choices and outputs (deterministic for a seed); on
// every block, the scale search judged on the backends in the kernels' int4 format gives the f32
// fake-quantization reference's errors and ratios within stated tolerances.
#include "quant_awq/quant_test_models.hpp"

#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "core/eval/model_eval.hpp"
#include "core/quant/awq_scaling.hpp"
#include "core/quant/awq_search.hpp"
#include "core/quant/methods.hpp"
#include "core/quant/pipeline.hpp"
#include "quant_awq/awq_search_compare.hpp"

#include <QtTest/QtTest>

#include <chrono>

using namespace qs;
using namespace qs::quant;
using runtime::LinearRole;
using runtime::Mat;

namespace {

struct ModuleErrors {
    double attention = 0, mlp = 0, block = 0;
};

// Errors of a quantized block against the original on the block inputs: each half on the
// original half's input (normalized by each model's own norm, which AWQ rescales).
ModuleErrors moduleErrors(const runtime::Transformer& original, const runtime::Transformer& quantized, int block,
                          const std::vector<Mat>& inputs)
{
    const double eps = original.spec().rmsNormEps;
    double ea = 0, na = 0, em = 0, nm = 0, eb = 0, nb = 0;
    for (const Mat& x : inputs) {
        auto half = [&](const runtime::Transformer& m, const Mat& in, bool attn) {
            Mat n = in;
            const auto& b = m.weights().blocks[std::size_t(block)];
            runtime::Transformer::rmsNorm(n, attn ? b.inputNorm : b.postAttentionNorm, eps);
            return attn ? m.attention(block, n) : m.mlp(block, n);
        };
        const Mat a0 = half(original, x, true), a1 = half(quantized, x, true);
        const Mat h = x + a0;
        const Mat m0 = half(original, h, false), m1 = half(quantized, h, false);
        const Mat b0 = original.block(block, x, 0), b1 = quantized.block(block, x, 0);
        ea += (a1 - a0).squaredNorm();
        na += a0.squaredNorm();
        em += (m1 - m0).squaredNorm();
        nm += m0.squaredNorm();
        eb += (b1 - b0).squaredNorm();
        nb += b0.squaredNorm();
    }
    return {std::sqrt(ea / na), std::sqrt(em / nm), std::sqrt(eb / nb)};
}

} // namespace

class TestAwqDemo : public QObject {
    Q_OBJECT
private slots:
    void blockZeroScalingAndErrors();
    void quantizeModelKlAndDeterminism();
    void backendJudgesMatchReference();
};

void TestAwqDemo::blockZeroScalingAndErrors()
{
    if (!test::haveDemo())
        QSKIP("demo model missing");
    try {
        auto m = model::openModel(test::demoDir().string());
        QVERIFY2(m.tokenizer, m.tokenizerError.c_str());
        runtime::Transformer tf(runtime::loadLlamaWeights(m));
        const auto set = test::demoCalibration(m);
        QuantConfig cfg;
        cfg.method = "awq";
        auto awq = makeAwqMethod(cfg);
        auto rtn = makeRtnMethod(cfg);
        MethodContext ctx{compute::makeCpuBackend(), &cfg, nullptr};
        bool ran = false;
        calib::streamCalibration(tf, set, awq->captureOptions(), [&](calib::BlockCalibration& cal) {
            if (cal.block != 0)
                return;
            ran = true;
            // (a) The searched scales folded in, before quantizing: same f32 block output.
            runtime::Transformer scaled = tf;
            const auto t0 = std::chrono::steady_clock::now();
            const auto search = searchAwqScales(scaled, cal, cfg);
            const double searchSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            applyAwqScales(scaled.weights().blocks[0], search.scales);
            double worst = 0;
            for (const Mat& x : *cal.inputs)
                worst = std::max(worst, test::relError(scaled.block(0, x, 0), tf.block(0, x, 0)));
            qInfo("block 0 search on %d tokens in %.2f s; folded scales change the block output by %.2e", search.tokens,
                  searchSeconds, worst);
            for (const auto& g : search.groups)
                qInfo("  %-38s %s ratio %.2f%s  mse %.3e  RTN mse %.3e", g.name.c_str(), g.searched ? "" : "(skipped)",
                      g.ratio, g.keptRtn ? " (kept s = 1)" : "", g.error, g.rtnError);
            QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
            QVERIFY(!search.groups[1].searched); // the demo model has GQA (6 heads, 2 kv heads)
            for (int g : {0, 2, 3}) {
                QVERIFY(search.groups[std::size_t(g)].searched);
                QVERIFY(search.groups[std::size_t(g)].error <= search.groups[std::size_t(g)].rtnError * (1 + 1e-9));
            }

            // (c) Quantized block 0: AWQ's module errors at most RTN's.
            runtime::Transformer withAwq = tf, withRtn = tf, again = tf;
            std::vector<LayerReport> ra, rr, rAgain;
            awq->quantizeBlock(withAwq, &cal, ctx, ra);
            // Deterministic for a seed: a second run chooses and computes the same.
            awq->quantizeBlock(again, &cal, ctx, rAgain);
            for (std::size_t i = 0; i < ra.size(); ++i) {
                QCOMPARE(ra[i].choices["scaling"].value("ratio", -1.0), rAgain[i].choices["scaling"].value("ratio", -1.0));
                QCOMPARE(ra[i].choices["clip"].dump(), rAgain[i].choices["clip"].dump());
                QCOMPARE(ra[i].weightMse, rAgain[i].weightMse);
            }
            for (const Mat& x : *cal.inputs)
                QVERIFY(withAwq.block(0, x, 0) == again.block(0, x, 0));
            rtn->quantizeBlock(withRtn, &cal, ctx, rr);
            const auto ea = moduleErrors(tf, withAwq, 0, *cal.inputs);
            const auto er = moduleErrors(tf, withRtn, 0, *cal.inputs);
            qInfo("block 0 rel. output error  attention: AWQ %.4f RTN %.4f | MLP: AWQ %.4f RTN %.4f | block: AWQ %.5f "
                  "RTN %.5f",
                  ea.attention, er.attention, ea.mlp, er.mlp, ea.block, er.block);
            for (std::size_t i = 0; i < ra.size(); ++i)
                qInfo("  %-34s AWQ %.4f RTN %.4f  %s", ra[i].name.c_str(), ra[i].outputRelError, rr[i].outputRelError,
                      ra[i].choices["clip"].dump().c_str());
            QVERIFY(ea.attention <= er.attention);
            QVERIFY(ea.mlp <= er.mlp);
            QVERIFY(ea.block <= er.block);
            QCOMPARE(int(ra.size()), 7);
            for (const auto& r : ra)
                QCOMPARE(QString::fromStdString(r.format), QString("int4-g128-asym"));
        });
        QVERIFY(ran);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqDemo::quantizeModelKlAndDeterminism()
{
    if (!test::haveDemo())
        QSKIP("demo model missing");
    try {
        auto m = model::openModel(test::demoDir().string());
        QVERIFY2(m.tokenizer, m.tokenizerError.c_str());
        const runtime::Transformer original(runtime::loadLlamaWeights(m));
        const auto set = test::demoCalibration(m);
        const auto evalTokens = test::demoEvaluationTokens(m);
        const auto reference = eval::computeReference(original, evalTokens, 256, 8);
        auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());

        QuantConfig cfg;
        cfg.method = "awq";
        cfg.seed = 7;
        runtime::Transformer a = original, r = original;
        const auto runA = quantizeModel(a, cfg, &set, backend);
        QuantConfig rtnCfg;
        rtnCfg.method = "rtn";
        quantizeModel(r, rtnCfg, nullptr, backend);
        const auto evalA = eval::evaluateAgainst(reference, a);
        const auto evalR = eval::evaluateAgainst(reference, r);
        qInfo("demo AWQ w4 g128: %.1f s, %.3f bits/weight, mean layer error %.4f (worst %.4f)", runA.seconds,
              runA.bitsPerWeight, runA.meanOutputError(), runA.worstOutputError());
        qInfo("  KL vs original %.5f (RTN %.5f), top-1 %.4f (RTN %.4f), ppl %.3f (RTN %.3f, original %.3f), %lld positions",
              evalA.vsOriginal.meanKl, evalR.vsOriginal.meanKl, evalA.vsOriginal.top1Agreement,
              evalR.vsOriginal.top1Agreement, evalA.perplexity.perplexity(), evalR.perplexity.perplexity(),
              reference.perplexity.perplexity(), static_cast<long long>(evalA.vsOriginal.positions));
        for (const auto& l : runA.layers)
            if (l.block == 0 || l.block == 5)
                qInfo("  %-34s ratio %s clip %s err %.4f", l.name.c_str(),
                      l.choices["scaling"].value("ratio", nlohmann::json()).dump().c_str(),
                      l.choices["clip"].value("mean_shrink", nlohmann::json()).dump().c_str(), l.outputRelError);
        QCOMPARE(int(runA.layers.size()), 6 * 7);
        QVERIFY(std::isfinite(evalA.vsOriginal.meanKl));
        QVERIFY2(evalA.vsOriginal.meanKl < 0.1, "4-bit g128 should move the distribution only a little");
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// What judging candidates in the kernels' format changes on the demo model, block by block:
// (X / s) Q(W s)^T on the CPU backend against the f32 reference X (Q(W s) / s)^T: judged errors
// within 1e-4 (normalized), ratios equal but near-ties (reference errors within 1e-4). (The
// Vulkan comparison, 1e-2 and 1%, runs on a random block in test_awq_scaling: the demo's 6 blocks
// take minutes on lavapipe. QS_AWQ_DEMO_GPU=1 adds it here, for a real device.)
void TestAwqDemo::backendJudgesMatchReference()
{
    if (!test::haveDemo())
        QSKIP("demo model missing");
    try {
        auto m = model::openModel(test::demoDir().string());
        QVERIFY2(m.tokenizer, m.tokenizerError.c_str());
        runtime::Transformer tf(runtime::loadLlamaWeights(m));
        const auto set = test::demoCalibration(m);
        QuantConfig cfg;
        cfg.method = "awq";
        std::shared_ptr<compute::Backend> cpu = compute::makeCpuBackend();
        std::shared_ptr<compute::Backend> gpu;
        if (qEnvironmentVariableIntValue("QS_AWQ_DEMO_GPU") == 1) {
            gpu = compute::makeBackend(true);
            if (!gpu->isGpu())
                gpu.reset();
        }
        test::AwqSearchDifference dc, dg;
        int blocks = 0;
        double secondsRef = 0, secondsCpu = 0;
        calib::streamCalibration(tf, set, makeAwqMethod(cfg)->captureOptions(), [&](calib::BlockCalibration& cal) {
            ++blocks;
            const std::string b = "block " + std::to_string(cal.block);
            auto t0 = std::chrono::steady_clock::now();
            const auto reference = searchAwqScales(tf, cal, cfg, {});
            secondsRef += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            AwqSearchOptions onCpu;
            onCpu.backend = cpu;
            t0 = std::chrono::steady_clock::now();
            const auto c = searchAwqScales(tf, cal, cfg, onCpu);
            secondsCpu += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            QVERIFY(test::compareAwqSearches(reference, c, 1e-4, 1e-4, b + " cpu:", dc));
            if (gpu) {
                AwqSearchOptions onGpu;
                onGpu.backend = gpu;
                const auto g = searchAwqScales(tf, cal, cfg, onGpu);
                QVERIFY(test::compareAwqSearches(reference, g, 1e-2, 1e-2, b + " " + gpu->name() + ":", dg));
            }
        });
        QCOMPARE(blocks, 6);
        qInfo("demo, 6 blocks: search %.2f s (f32 reference) vs %.2f s (cpu backend, int4 codes)", secondsRef, secondsCpu);
        qInfo("cpu backend vs reference: worst judged-error difference %.2e, %d of %d ratios differ (near-ties)",
              dc.worstErrorDiff, dc.ratiosDiffering, dc.groups);
        if (gpu)
            qInfo("%s vs reference: worst judged-error difference %.2e, %d of %d ratios differ", gpu->name().c_str(),
                  dg.worstErrorDiff, dg.ratiosDiffering, dg.groups);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestAwqDemo)
#include "test_awq_demo.moc"
