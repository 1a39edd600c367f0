// GPTQ through the pipeline: every linear replaced, layer errors against RTN on real
// calibration inputs, true-sequential Hessians, determinism for a seed. The demo model's KL and
// perplexity against RTN are printed when QS_GPTQ_EVAL=1 (too slow for every CI run;
// QS_GPTQ_SAMPLES=N calibrates on N x 128 tokens, QS_GPTQ_ACTORDER=1 turns act-order on).
#include "common/test_support.hpp"

#include "core/calib/block_capture.hpp"
#include "core/compute/backend.hpp"
#include "core/eval/model_eval.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/quant/gptq_solver.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <QtTest/QtTest>

#include <chrono>

using namespace qs;
using runtime::LinearRole;

namespace {

std::filesystem::path demoDir() { return test::sourceDir() / "resources" / "demo-model"; }

runtime::Transformer load(const std::filesystem::path& dir)
{
    auto model = model::openModel(dir.string());
    return runtime::Transformer(runtime::loadLlamaWeights(model));
}

calib::CalibrationSet randomTokens(int vocab, int samples, int length, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    std::vector<std::int32_t> stream(std::size_t(samples * length * 3));
    for (auto& t : stream)
        t = tok(rng);
    return calib::sampleWindows(stream, samples, length, rng());
}

calib::CalibrationSet demoCalibration(int samples, int length, std::uint64_t seed)
{
    auto model = model::openModel(demoDir().string());
    return calib::calibrationSetFromFile((demoDir() / "calibration.txt").string(), *model.tokenizer, samples, length,
                                         seed);
}

quant::QuantConfig gptqConfig(int bits, int group)
{
    quant::QuantConfig c;
    c.method = "gptq";
    c.bits = bits;
    c.groupSize = group;
    return c;
}

const compute::IntGroupwise& groupwiseOf(const runtime::Transformer& tf, int block, LinearRole role)
{
    const auto* b = dynamic_cast<const runtime::BackendLinear*>(&tf.weights().blocks[std::size_t(block)].linear(role));
    if (!b)
        throw Error("linear is not a BackendLinear");
    return std::get<compute::IntGroupwise>(b->weight());
}

bool demoPresent() { return std::filesystem::exists(demoDir() / "model.safetensors"); }

} // namespace

class TestGptqModel : public QObject {
    Q_OBJECT
private slots:
    // CI runs the suites side by side on 2 cores: Eigen's OpenMP threads would only fight the
    // other suites (measured 10x slower under load), so each suite computes on one thread.
    void initTestCase() { Eigen::setNbThreads(1); }
    void fixtureEveryLinearReplacedAndDeterministic();
    void fixtureTrueSequentialOffUsesCapture();
    void demoBlock0LayerErrorAtMostRtn();
    void demoModelBeatsRtn();
    void demoKlAndPerplexity();
};

void TestGptqModel::fixtureEveryLinearReplacedAndDeterministic()
{
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    try {
        const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        const std::uint64_t seed = std::random_device{}();
        auto a = load(test::fixturesDir() / "llama");
        auto b = load(test::fixturesDir() / "llama");
        auto rtnModel = load(test::fixturesDir() / "llama");
        const auto set = randomTokens(int(a.spec().vocabSize), 8, 32, seed);
        auto cfg = gptqConfig(4, 32);
        cfg.actOrder = true;
        const auto runA = quant::quantizeModel(a, cfg, &set, backend);
        const auto runB = quant::quantizeModel(b, cfg, &set, backend);
        auto rtnCfg = cfg;
        rtnCfg.method = "rtn";
        const auto rtn = quant::quantizeModel(rtnModel, rtnCfg, &set, backend);

        const int blocks = int(a.weights().blocks.size());
        QCOMPARE(int(runA.layers.size()), 7 * blocks);
        for (int blk = 0; blk < blocks; ++blk)
            for (auto role : runtime::kAllLinearRoles) {
                const auto& qa = groupwiseOf(a, blk, role);
                const auto& qb = groupwiseOf(b, blk, role);
                QCOMPARE(qa.groupSize, 32);
                QCOMPARE(qa.bits, 4);
                QCOMPARE(int(qa.gIdx.size()), qa.k); // act-order keeps g_idx
                QVERIFY(qa.codes == qb.codes);
                QVERIFY(qa.scales == qb.scales);
                QVERIFY(qa.zeros == qb.zeros);
                QVERIFY(qa.gIdx == qb.gIdx);
            }
        for (const auto& l : runA.layers) {
            QVERIFY(l.choices.contains("damp_used"));
            QVERIFY(l.choices["damp_used"].get<double>() >= 0.0099); // 0.01 as a float
            QVERIFY(std::isfinite(l.choices["gptq_loss"].get<double>()));
            QCOMPARE(l.choices["act_order"].get<bool>(), true);
            QCOMPARE(l.choices["group_size"].get<int>(), 32);
            const bool recomputed = l.role == LinearRole::O || l.role == LinearRole::Gate || l.role == LinearRole::Up ||
                                    l.role == LinearRole::Down;
            QCOMPARE(l.choices["hessian"].get<std::string>(), std::string(recomputed ? "recomputed" : "capture"));
        }
        qInfo("llama fixture w4 g32 act-order: mean output error GPTQ %.4f, RTN %.4f", runA.meanOutputError(),
              rtn.meanOutputError());
        QVERIFY(runA.meanOutputError() < rtn.meanOutputError());
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqModel::fixtureTrueSequentialOffUsesCapture()
{
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    try {
        const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        auto tf = load(test::fixturesDir() / "llama");
        const auto set = randomTokens(int(tf.spec().vocabSize), 4, 32, std::random_device{}());
        auto cfg = gptqConfig(3, 32);
        cfg.trueSequential = false;
        cfg.symmetric = true;
        const auto run = quant::quantizeModel(tf, cfg, &set, backend);
        QCOMPARE(int(run.layers.size()), 7 * int(tf.weights().blocks.size()));
        for (const auto& l : run.layers) {
            QCOMPARE(l.choices["hessian"].get<std::string>(), std::string("capture"));
            QCOMPARE(l.format.substr(0, 12), std::string("int3-g32-sym"));
            QVERIFY(l.outputRelError > 0 && l.outputRelError < 1);
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// The published property on real inputs: block 0 of the demo model, captured Hessians.
void TestGptqModel::demoBlock0LayerErrorAtMostRtn()
{
    if (!demoPresent())
        QSKIP("demo model missing");
    try {
        auto tf = load(demoDir());
        const auto set = demoCalibration(8, 128, std::random_device{}());
        calib::CaptureOptions opt;
        struct Stop {};
        try {
            calib::streamCalibration(tf, set, opt, [&](calib::BlockCalibration& cal) {
                for (auto role : runtime::kAllLinearRoles) {
                    const Eigen::MatrixXd w =
                        quant::currentWeight(*tf.weights().blocks[0].linear(role)).cast<double>();
                    const Eigen::MatrixXd h = cal.forLinear(role).gptqHessian().cast<double>();
                    for (int bits : {4, 3}) {
                        quant::GptqOptions o;
                        o.grid = {bits, false};
                        o.groupSize = 128;
                        const auto r = quant::gptqQuantize(w, h, o);
                        const auto rtnQ = quant::quantizeGroupwise(w.cast<float>(), o.grid, 128);
                        const Eigen::MatrixXd rtn =
                            quant::dequantizeGroupwise(rtnQ, int(w.rows()), int(w.cols())).cast<double>();
                        const double eg = quant::layerError(w, r.dequantized, h);
                        const double er = quant::layerError(w, rtn, h);
                        qInfo("block 0 %s w%d g128: layer error GPTQ/RTN = %.3f", runtime::linearRoleName(role), bits,
                              eg / er);
                        QVERIFY2(eg <= er, runtime::linearRoleName(role));
                    }
                }
                throw Stop{};
            });
        } catch (const Stop&) {
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// W4 g128 through quantizeModel on 8 x 128 tokens of the demo's calibration text.
void TestGptqModel::demoModelBeatsRtn()
{
    if (!demoPresent())
        QSKIP("demo model missing");
    try {
        const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        const auto set = demoCalibration(8, 128, 1234);
        auto gptq = load(demoDir());
        auto rtnModel = load(demoDir());
        const auto t0 = std::chrono::steady_clock::now();
        const auto run = quant::quantizeModel(gptq, gptqConfig(4, 128), &set, backend);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        auto rtnCfg = gptqConfig(4, 128);
        rtnCfg.method = "rtn";
        const auto rtn = quant::quantizeModel(rtnModel, rtnCfg, &set, backend);
        const int blocks = int(gptq.weights().blocks.size());
        QCOMPARE(int(run.layers.size()), 7 * blocks);
        for (int blk = 0; blk < blocks; ++blk)
            for (auto role : runtime::kAllLinearRoles)
                QCOMPARE(gptq.weights().blocks[std::size_t(blk)].linear(role)->describe().substr(0, 12),
                         std::string("int4-g128-as"));
        int better = 0;
        for (std::size_t i = 0; i < run.layers.size(); ++i)
            better += run.layers[i].outputRelError < rtn.layers[i].outputRelError;
        qInfo("demo w4 g128: mean output error GPTQ %.4f RTN %.4f, worst %.4f / %.4f, GPTQ lower on %d of %d linears, "
              "%.1f s",
              run.meanOutputError(), rtn.meanOutputError(), run.worstOutputError(), rtn.worstOutputError(), better,
              int(run.layers.size()), seconds);
        QVERIFY(run.meanOutputError() < rtn.meanOutputError());
        QVERIFY(better * 4 >= int(run.layers.size()) * 3); // on at least three quarters of the linears
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqModel::demoKlAndPerplexity()
{
    if (!demoPresent())
        QSKIP("demo model missing");
    if (qEnvironmentVariableIntValue("QS_GPTQ_EVAL") != 1)
        QSKIP("set QS_GPTQ_EVAL=1 to measure KL and perplexity");
    try {
        const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        auto original = load(demoDir());
        auto model = model::openModel(demoDir().string());
        const std::string text = test::readFile(demoDir() / "evaluation.txt");
        const auto tokens = model.tokenizer->encode(text);
        const int samples = qEnvironmentVariableIntValue("QS_GPTQ_SAMPLES") > 0
                                ? qEnvironmentVariableIntValue("QS_GPTQ_SAMPLES") : 8;
        const auto set = demoCalibration(samples, 128, 0);
        const auto ref = eval::computeReference(original, tokens, 256, 8);
        qInfo("original: ppl %.3f (8 windows x 256)", ref.perplexity.perplexity());
        for (int bits : {4, 3})
            for (const char* method : {"rtn", "gptq"}) {
                auto tf = load(demoDir());
                auto cfg = gptqConfig(bits, 128);
                cfg.method = method;
                cfg.actOrder = qEnvironmentVariableIntValue("QS_GPTQ_ACTORDER") == 1;
                const auto run = quant::quantizeModel(tf, cfg, &set, backend);
                const auto ev = eval::evaluateAgainst(ref, tf);
                qInfo("%s w%d g128: ppl %.3f  KL %.5f  top-1 %.4f  mean layer err %.4f  %.1f s", method, bits,
                      ev.perplexity.perplexity(), ev.vsOriginal.meanKl, ev.vsOriginal.top1Agreement,
                      run.meanOutputError(), run.seconds);
            }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestGptqModel)
#include "test_gptq_model.moc"
