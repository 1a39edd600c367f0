// Methods end to end through quantizeModel: on the llama fixture every linear of every block
// is replaced, each report has the format and bits per weight its method implies, logits stay
// near the original's, and a second run gives identical results; on the demo model the
// model-level bits per weight (NF4 with double quant about 4.127, int4 g128 asym 4.5). With
// QS_QUANT_EVAL=1, also perplexity and KL of the demo model for absmax, NF4 and RTN (slow).
#include "common/test_support.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/eval/model_eval.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/outlier_linear.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/backend_linear.hpp"

#include <QtTest/QtTest>

#include <Eigen/Core>

#include <cmath>

using namespace qs;
using runtime::Mat;

namespace {

runtime::Transformer load(const std::filesystem::path& dir)
{
    auto model = model::openModel(dir.string());
    return runtime::Transformer(runtime::loadLlamaWeights(model));
}

calib::CalibrationSet randomSet(int vocab, std::uint64_t seed)
{
    std::mt19937 rng{std::uint32_t(seed)};
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    std::vector<std::int32_t> stream(600);
    for (auto& t : stream)
        t = tok(rng);
    return calib::sampleWindows(stream, 4, 32, seed);
}

double rel(const Mat& a, const Mat& b) { return double((a - b).norm()) / double(b.norm()); }

quant::QuantConfig config(const std::string& method)
{
    quant::QuantConfig c;
    c.method = method;
    return c;
}

// Bits per weight each layer must report, from the method's storage layout.
double expectedBits(const quant::QuantConfig& c, int n, int k, int outlierColumns)
{
    const double nk = double(n) * double(k);
    if (c.method == "absmax") {
        if (c.outlierThreshold > 0)
            return (8.0 * nk + 32.0 * n + 16.0 * n * outlierColumns + 32.0 * outlierColumns) / nk;
        return 8.0 + 32.0 / k;
    }
    if (c.method == "nf4") {
        const double blocks = nk / 64;
        if (!c.doubleQuant)
            return 4.0 + 32.0 / 64;
        return 4.0 + 8.0 / 64 + 32.0 * std::ceil(blocks / 256) / nk;
    }
    // rtn: f32 scale and zero per group (the group is the row when it is shorter than 128)
    const int g = std::min(c.groupSize, k);
    return c.bits + (c.symmetric ? 32.0 : 64.0) / g;
}

} // namespace

class TestQuantModels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { Eigen::setNbThreads(1); } // suites run side by side on 2 cores in CI
    void fixtureEveryLinearReplaced_data();
    void fixtureEveryLinearReplaced();
    void deterministic();
    void demoBitsPerWeight();
    void demoQuality();
};

void TestQuantModels::fixtureEveryLinearReplaced_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<bool>("perTensor");
    QTest::addColumn<float>("threshold");
    QTest::addColumn<bool>("doubleQuant");
    QTest::addColumn<bool>("fp4");
    QTest::addColumn<double>("maxLogitError");
    QTest::newRow("rtn w4 g128") << "rtn" << false << 0.0f << false << false << 0.5;
    QTest::newRow("absmax per-channel") << "absmax" << false << 0.0f << false << false << 0.05;
    QTest::newRow("absmax per-tensor") << "absmax" << true << 0.0f << false << false << 0.1;
    QTest::newRow("absmax outliers>2") << "absmax" << false << 2.0f << false << false << 0.05;
    QTest::newRow("nf4 dq") << "nf4" << false << 0.0f << true << false << 0.5;
    QTest::newRow("nf4") << "nf4" << false << 0.0f << false << false << 0.5;
    QTest::newRow("fp4 dq") << "nf4" << false << 0.0f << true << true << 0.6;
}

void TestQuantModels::fixtureEveryLinearReplaced()
{
    QFETCH(QString, method);
    QFETCH(bool, perTensor);
    QFETCH(float, threshold);
    QFETCH(bool, doubleQuant);
    QFETCH(bool, fp4);
    QFETCH(double, maxLogitError);
    const auto dir = test::fixturesDir() / "llama";
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto original = load(dir);
        auto tf = load(dir);
        auto c = config(method.toStdString());
        c.perTensor = perTensor;
        c.outlierThreshold = threshold;
        c.doubleQuant = doubleQuant;
        c.fp4 = fp4;
        const auto set = randomSet(int(tf.spec().vocabSize), 7);
        const auto run = quant::quantizeModel(tf, c, &set, compute::makeCpuBackend());
        const int blocks = int(tf.weights().blocks.size());
        QCOMPARE(run.layers.size(), std::size_t(blocks * 7));
        int outliersSeen = 0;
        for (const auto& r : run.layers) {
            const auto& op = *tf.weights().blocks[std::size_t(r.block)].linear(r.role);
            QVERIFY2(!dynamic_cast<const runtime::DenseLinear*>(&op), r.name.c_str());
            int outliers = 0;
            if (const auto* o = dynamic_cast<const quant::OutlierLinear*>(&op)) {
                outliers = int(o->outlierColumns().size());
                QCOMPARE(r.choices.at("outlier_columns").get<int>(), outliers);
                outliersSeen += outliers;
            } else {
                const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op);
                QVERIFY2(b, r.name.c_str());
                const std::string fmt = compute::formatName(b->weight());
                const std::string expectedFmt = method == "absmax" ? "int8-channel"
                                                : method == "rtn"  ? "int4-g" + std::to_string(std::min(128, op.inFeatures())) + "-asym"
                                                : fp4             ? "f16"
                                                                  : (doubleQuant ? "nf4-dq" : "nf4");
                QCOMPARE(fmt, expectedFmt);
            }
            const double bits = expectedBits(c, op.outFeatures(), op.inFeatures(), outliers);
            QVERIFY2(std::fabs(r.bitsPerWeight - bits) < 1e-9,
                     qPrintable(QString("%1: %2 bits, expected %3").arg(r.name.c_str()).arg(r.bitsPerWeight).arg(bits)));
            QVERIFY(r.sqnrDb > 10);
            QVERIFY(r.outputRelError > 0 && r.outputRelError < 0.5);
        }
        if (threshold > 0)
            QVERIFY2(outliersSeen > 0, "no input column of the fixture exceeded the threshold");
        std::vector<std::int32_t> tokens = set.samples[0];
        const double err = rel(tf.forward(tokens), original.forward(tokens));
        qInfo("%s: %.4f bits/weight, logits rel error %.4f, mean layer output error %.4f", c.describe().c_str(),
              run.bitsPerWeight, err, run.meanOutputError());
        QVERIFY2(err > 0 && err < maxLogitError, qPrintable(QString::number(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantModels::deterministic()
{
    const auto dir = test::fixturesDir() / "llama";
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        for (const char* m : {"absmax", "nf4", "rtn"}) {
            auto c = config(m);
            if (std::string(m) == "absmax")
                c.outlierThreshold = 2.0f;
            auto a = load(dir), b = load(dir);
            const auto set = randomSet(int(a.spec().vocabSize), 11);
            const auto ra = quant::quantizeModel(a, c, &set, compute::makeCpuBackend());
            const auto rb = quant::quantizeModel(b, c, &set, compute::makeCpuBackend());
            for (std::size_t i = 0; i < ra.layers.size(); ++i) {
                QCOMPARE(ra.layers[i].weightMse, rb.layers[i].weightMse);
                QCOMPARE(ra.layers[i].outputRelError, rb.layers[i].outputRelError);
            }
            const auto& t = set.samples[1];
            QCOMPARE(double((a.forward(t) - b.forward(t)).cwiseAbs().maxCoeff()), 0.0);
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantModels::demoBitsPerWeight()
{
    const auto demo = test::sourceDir() / "resources" / "demo-model";
    if (!std::filesystem::exists(demo / "model.safetensors"))
        QSKIP("demo model missing");
    try {
        struct Case {
            const char* method;
            double bits, tolerance;
        };
        // NF4 dq: 4 + 8/64 + 32/(64*256) = 4.127 (per layer the last absmax block rounds up);
        // int4 g128 asym with f32 scale and zero: 4 + 64/128 = 4.5; int8: 8 + 32/K.
        for (const Case& k : {Case{"nf4", 4.127, 0.002}, Case{"rtn", 4.5, 1e-12}, Case{"absmax", 8.05, 0.05}}) {
            auto tf = load(demo);
            const auto run = quant::quantizeModel(tf, config(k.method), nullptr, compute::makeCpuBackend());
            QCOMPARE(run.layers.size(), std::size_t(6 * 7));
            qInfo("demo %s: %.5f bits/weight, %.2f MB, %.2f s", k.method, run.bitsPerWeight, double(run.modelBytes) / 1e6, run.seconds);
            QVERIFY2(std::fabs(run.bitsPerWeight - k.bits) <= k.tolerance, qPrintable(QString::number(run.bitsPerWeight, 'g', 10)));
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantModels::demoQuality()
{
    if (qgetenv("QS_QUANT_EVAL") != "1")
        QSKIP("set QS_QUANT_EVAL=1 for the demo model's perplexity and KL (slow)");
    const auto demo = test::sourceDir() / "resources" / "demo-model";
    if (!std::filesystem::exists(demo / "model.safetensors"))
        QSKIP("demo model missing");
    try {
        auto model = model::openModel(demo.string());
        const auto tokens = model.tokenizer->encode(test::readFile(demo / "evaluation.txt"));
        const auto calibTokens = model.tokenizer->encode(test::readFile(demo / "calibration.txt"));
        const auto set = calib::sampleWindows(calibTokens, 8, 256, 0); // for the outlier columns and layer errors
        const runtime::Transformer original(runtime::loadLlamaWeights(model));
        const auto ref = eval::computeReference(original, tokens, 256, 8);
        qInfo("original: perplexity %.4f on %zu windows of 256", ref.perplexity.perplexity(), ref.windows.size());
        std::vector<quant::QuantConfig> configs;
        configs.push_back(config("absmax"));
        auto outl = config("absmax");
        outl.outlierThreshold = 6.0f;
        configs.push_back(outl);
        configs.push_back(config("nf4"));
        auto fp4 = config("nf4");
        fp4.fp4 = true;
        configs.push_back(fp4);
        configs.push_back(config("rtn"));
        for (const auto& c : configs) {
            runtime::Transformer tf(runtime::loadLlamaWeights(model));
            const auto run = quant::quantizeModel(tf, c, &set, compute::makeCpuBackend());
            const auto e = eval::evaluateAgainst(ref, tf);
            qInfo("%-28s bits %.3f  ppl %.4f  KL %.6f  top1 %.4f  mean layer err %.4f  quantize %.1f s",
                  c.describe().c_str(), run.bitsPerWeight, e.perplexity.perplexity(), e.vsOriginal.meanKl,
                  e.vsOriginal.top1Agreement, run.meanOutputError(), run.seconds);
            QVERIFY(e.vsOriginal.meanKl < 0.5);
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestQuantModels)
#include "test_quant_models.moc"
