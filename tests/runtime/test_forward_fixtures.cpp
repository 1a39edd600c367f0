// The forward pass against transformers' own outputs (tests/fixtures/<case>/golden.safetensors,
// made by scripts/demo-model/make_fixtures.py in f32, eager attention): logits, the hidden state
// after every decoder block and the input of every linear of block 0, within 1e-4 relative;
// with the f32 Eigen linears, and with every linear (LM head included) on a compute backend, the
// CPU reference and Vulkan (lavapipe in CI), as f16 hi+lo pairs (split_half_linear.hpp: f32
// precision from the f16 kernels, so the same 1e-4 holds).
#include "common/test_support.hpp"

#include "core/io/safetensors.hpp"
#include "core/model/model.hpp"
#include "core/runtime/split_half_linear.hpp"
#include "core/runtime/transformer.hpp"

#include <QtTest/QtTest>

#include <map>

using namespace qs;
using runtime::Mat;

namespace {

constexpr double kTolerance = 1e-4;

double relError(const Mat& a, const Mat& ref)
{
    return double((a - ref).norm()) / std::max(double(ref.norm()), 1e-30);
}

Mat toMat(const Tensor& t)
{
    const auto rows = t.shape.size() == 2 ? t.shape[0] : 1;
    const auto cols = t.shape.empty() ? 1 : t.shape.back();
    return Eigen::Map<const Mat>(t.data.data(), rows, cols);
}

} // namespace

class TestForwardFixtures : public QObject {
    Q_OBJECT
private slots:
    void matchesTransformers_data();
    void matchesTransformers();
    void kvCacheMatchesFullForward();
};

void TestForwardFixtures::matchesTransformers_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("backend"); // "", "cpu", "vulkan" or "lazy" (linears read per product)
    for (const char* b : {"", "cpu", "vulkan", "lazy"})
        for (const char* c : {"llama", "mistral", "qwen2", "qwen3", "llama-tied", "llama31-rope", "llama-sharded"})
            QTest::newRow((std::string(c) + (*b ? " linears on " : "") + b).c_str()) << c << b;
}

void TestForwardFixtures::matchesTransformers()
{
    QFETCH(QString, name);
    QFETCH(QString, backend);
    const auto dir = test::fixturesDir() / name.toStdString();
    if (!std::filesystem::exists(dir / "golden.safetensors"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        QVERIFY2(model.spec.supported, model.spec.unsupportedReason.c_str());
        runtime::LoadOptions load;
        load.lazyLinears = backend == "lazy";
        runtime::Transformer tf(runtime::loadLlamaWeights(model, load));
        if (load.lazyLinears)
            QVERIFY(tf.weights().blocks[0].linear(runtime::LinearRole::Q)->describe().find("checkpoint") !=
                    std::string::npos);
        if (backend == "cpu" || backend == "vulkan") {
            std::shared_ptr<compute::Backend> b =
                backend == "vulkan" ? compute::makeBackend(true) : compute::makeCpuBackend();
            if (backend == "vulkan" && !b->isGpu())
                QSKIP("no Vulkan device here");
            runtime::moveLinearsToBackendSplitHalf(tf.weights(), b);
            QVERIFY(tf.weights().blocks[1].linear(runtime::LinearRole::Down)->describe().find(b->name()) !=
                    std::string::npos);
            QVERIFY(tf.weights().lmHead->describe().find("hi+lo") != std::string::npos);
        }
        auto golden = io::openSafetensors(dir / "golden.safetensors");
        const Tensor ids = golden->readF32("input_ids");
        std::vector<std::int32_t> tokens(ids.data.begin(), ids.data.end());

        std::map<std::string, Mat> captured;
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int block, runtime::LinearRole role, const Mat& x) {
            if (block == 0)
                captured[std::string("block0.") + runtime::linearRoleName(role) + ".input"] = x;
        };
        hooks.onBlockOutput = [&](int block, const Mat& h) { captured["hidden." + std::to_string(block)] = h; };
        captured["logits"] = tf.forward(tokens, nullptr, &hooks);

        int compared = 0;
        for (const auto& [key, value] : captured) {
            if (!golden->find(key))
                continue;
            const Mat ref = toMat(golden->readF32(key));
            QCOMPARE(value.rows(), ref.rows());
            QCOMPARE(value.cols(), ref.cols());
            const double err = relError(value, ref);
            QVERIFY2(err < kTolerance, qPrintable(QString("%1: relative error %2").arg(key.c_str()).arg(err)));
            ++compared;
        }
        // logits + every block's output + 7 linear inputs of block 0.
        QCOMPARE(compared, 1 + int(model.spec.numLayers) + 7);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestForwardFixtures::kvCacheMatchesFullForward()
{
    const auto dir = test::fixturesDir() / "qwen2";
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        runtime::Transformer tf(runtime::loadLlamaWeights(model));
        std::mt19937 rng(std::random_device{}());
        std::uniform_int_distribution<int> tok(0, int(model.spec.vocabSize) - 1);
        std::vector<std::int32_t> tokens(23);
        for (auto& t : tokens)
            t = tok(rng);
        const Mat full = tf.forward(tokens);
        runtime::KvCache cache;
        const std::span<const std::int32_t> all(tokens);
        const Mat a = tf.forward(all.subspan(0, 9), &cache);
        const Mat b = tf.forward(all.subspan(9, 1), &cache);
        const Mat c = tf.forward(all.subspan(10), &cache);
        QCOMPARE(cache.length, 23);
        QVERIFY(relError(a, full.topRows(9)) < 1e-5);
        QVERIFY(relError(b, full.middleRows(9, 1)) < 1e-5);
        QVERIFY(relError(c, full.bottomRows(13)) < 1e-5);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestForwardFixtures)
#include "test_forward_fixtures.moc"
