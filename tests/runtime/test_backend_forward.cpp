// The forward pass with its linears on a compute Backend: f16 weights on the CPU reference
// backend and on Vulkan (lavapipe in CI) agree with the f32 forward pass, and one linear can be
// swapped for an int8 one without touching the others.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/transformer.hpp"

#include <QtTest/QtTest>

using namespace qs;
using runtime::Mat;

namespace {

double rel(const Mat& a, const Mat& b) { return double((a - b).norm()) / std::max(double(b.norm()), 1e-30); }

std::vector<std::int32_t> randomTokens(int vocab, int n)
{
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> d(0, vocab - 1);
    std::vector<std::int32_t> t(std::size_t(n), 0);
    for (auto& x : t)
        x = d(rng);
    return t;
}

} // namespace

class TestBackendForward : public QObject {
    Q_OBJECT
private slots:
    void f16OnBackendsMatchesF32_data();
    void f16OnBackendsMatchesF32();
    void swapOneLinearForInt8();
};

void TestBackendForward::f16OnBackendsMatchesF32_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<bool>("vulkan");
    for (const char* f : {"qwen2", "qwen3"}) {
        QTest::newRow((std::string(f) + " cpu").c_str()) << f << false;
        QTest::newRow((std::string(f) + " vulkan").c_str()) << f << true;
    }
}

void TestBackendForward::f16OnBackendsMatchesF32()
{
    QFETCH(QString, fixture);
    QFETCH(bool, vulkan);
    const auto dir = test::fixturesDir() / fixture.toStdString();
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        std::shared_ptr<compute::Backend> backend = vulkan ? compute::makeBackend(true) : compute::makeCpuBackend();
        if (vulkan && backend->name().rfind("vulkan", 0) != 0)
            QSKIP("no Vulkan device here");
        auto model = model::openModel(dir.string());
        runtime::Transformer reference(runtime::loadLlamaWeights(model));
        runtime::Transformer onBackend(runtime::loadLlamaWeights(model));
        runtime::moveLinearsToBackend(onBackend.weights(), backend);
        QVERIFY(onBackend.weights().blocks[0].linear(runtime::LinearRole::Q)->describe().find("f16") != std::string::npos);

        const auto tokens = randomTokens(int(model.spec.vocabSize), 17);
        const double err = rel(onBackend.forward(tokens), reference.forward(tokens));
        // f16 weights (11-bit mantissa) through two blocks: well under 1%.
        QVERIFY2(err < 5e-3, qPrintable(QString("relative logit error %1 on %2").arg(err).arg(backend->name().c_str())));
        QVERIFY(err > 0); // the weights really went through f16
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestBackendForward::swapOneLinearForInt8()
{
    const auto dir = test::fixturesDir() / "llama";
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        runtime::Transformer tf(runtime::loadLlamaWeights(model));
        auto& slot = tf.weights().blocks[1].linear(runtime::LinearRole::Up);
        const auto dense = std::dynamic_pointer_cast<runtime::DenseLinear>(slot);
        QVERIFY(dense);
        // Absmax int8 per output channel, computed here independently of the quant module.
        const Mat& w = dense->weight();
        compute::Int8PerChannel q;
        q.n = int(w.rows());
        q.k = int(w.cols());
        q.q.resize(std::size_t(w.size()));
        q.scale.resize(std::size_t(w.rows()));
        for (Eigen::Index r = 0; r < w.rows(); ++r) {
            const float s = w.row(r).cwiseAbs().maxCoeff() / 127.0f;
            q.scale[std::size_t(r)] = s;
            for (Eigen::Index c = 0; c < w.cols(); ++c)
                q.q[std::size_t(r * w.cols() + c)] = std::int8_t(std::lround(w(r, c) / s));
        }
        auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        auto int8 = std::make_shared<runtime::BackendLinear>(backend, std::make_shared<const compute::WeightMatrix>(q));

        std::mt19937 rng(std::random_device{}());
        std::normal_distribution<float> nd;
        Mat x(9, w.cols());
        for (Eigen::Index i = 0; i < x.size(); ++i)
            x.data()[i] = nd(rng);
        Mat yRef, yQ;
        dense->forward(x, yRef);
        int8->forward(x, yQ);
        const double layerErr = rel(yQ, yRef);
        QVERIFY2(layerErr < 1e-2 && layerErr > 0, qPrintable(QString::number(layerErr)));

        const auto tokens = randomTokens(int(model.spec.vocabSize), 12);
        const Mat before = tf.forward(tokens);
        const auto other = tf.weights().blocks[0].linear(runtime::LinearRole::Q);
        slot = int8;
        const Mat after = tf.forward(tokens);
        QVERIFY(tf.weights().blocks[0].linear(runtime::LinearRole::Q) == other); // nothing else copied or changed
        QCOMPARE(tf.weights().blocks[1].linear(runtime::LinearRole::Up)->describe().substr(0, 4), std::string("int8"));
        const double modelErr = rel(after, before);
        QVERIFY2(modelErr > 0 && modelErr < 2e-2, qPrintable(QString::number(modelErr)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestBackendForward)
#include "test_backend_forward.moc"
