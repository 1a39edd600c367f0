// The random-model writer makes checkpoints the project's own reader opens and runs; with
// --layers, fewer blocks of the same widths. Its f16 linears load onto a backend bit for bit
// (no f32 round trip), the LM head with them, and the forward pass agrees with the f32 one.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/transformer.hpp"

#include <QProcess>
#include <QRandomGenerator>
#include <QtTest/QtTest>

class TestRandomLlama : public QObject {
    Q_OBJECT
private slots:
    void tinyOpensAndRuns();
    void layersOptionAndHalfLoad();
};

void TestRandomLlama::tinyOpensAndRuns()
{
    qs::test::ScratchDir dir;
    QProcess p;
    p.start(QS_MAKE_RANDOM_LLAMA, {QString::fromStdString(dir.path().string()), "tiny", "--seed", "7"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    try {
        auto m = qs::model::openModel(dir.path().string());
        QVERIFY(m.spec.supported);
        QCOMPARE(m.spec.numLayers, std::int64_t(2));
        QCOMPARE(m.checkpoint->tensors().size(), std::size_t(1 + 2 * 9 + 2));
        const auto w = m.checkpoint->readF32("model.layers.1.mlp.up_proj.weight");
        double sum2 = 0;
        for (float v : w.data)
            sum2 += double(v) * v;
        const double stdev = std::sqrt(sum2 / double(w.data.size()));
        QVERIFY2(std::abs(stdev - 0.02) < 0.002, qPrintable(QString::number(stdev)));
        qs::runtime::Transformer tf(qs::runtime::loadLlamaWeights(m));
        const std::vector<std::int32_t> tokens = {1, 5, 9, 400, 3};
        const auto logits = tf.forward(tokens);
        QCOMPARE(logits.rows(), Eigen::Index(5));
        QVERIFY(logits.allFinite());
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestRandomLlama::layersOptionAndHalfLoad()
{
    qs::test::ScratchDir dir;
    QProcess bad;
    bad.start(QS_MAKE_RANDOM_LLAMA, {QString::fromStdString(dir.path().string()), "tiny", "--layers", "0"});
    QVERIFY(bad.waitForFinished(60000));
    QCOMPARE(bad.exitCode(), 2);
    QProcess p;
    p.start(QS_MAKE_RANDOM_LLAMA, {QString::fromStdString(dir.path().string()), "tiny", "--layers", "3", "--seed",
                                   QString::number(QRandomGenerator::global()->bounded(1, 1 << 30))});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    try {
        using namespace qs;
        auto m = model::openModel(dir.path().string());
        QCOMPARE(m.spec.numLayers, std::int64_t(3));
        QCOMPARE(m.checkpoint->tensors().size(), std::size_t(1 + 3 * 9 + 2));
        runtime::Transformer f32(runtime::loadLlamaWeights(m));
        runtime::LoadOptions opt;
        opt.linearBackend = compute::makeCpuBackend();
        runtime::Transformer half(runtime::loadLlamaWeights(m, opt));
        // Every linear holds the file's f16 bits: what f32 -> f16 of the exact f32 values gives.
        for (int b = 0; b < 3; ++b)
            for (auto role : runtime::kAllLinearRoles) {
                const auto* dense = dynamic_cast<const runtime::DenseLinear*>(f32.weights().blocks[std::size_t(b)].linear(role).get());
                const auto* onBackend =
                    dynamic_cast<const runtime::BackendLinear*>(half.weights().blocks[std::size_t(b)].linear(role).get());
                QVERIFY(dense && onBackend);
                const auto* bits = std::get_if<compute::DenseHalf>(&onBackend->weight());
                QVERIFY(bits);
                QVERIFY(bits->bits == runtime::toDenseHalf(dense->weight()).bits);
            }
        QVERIFY(dynamic_cast<const runtime::BackendLinear*>(half.weights().lmHead.get()));
        std::vector<std::int32_t> tokens(12);
        for (auto& t : tokens)
            t = QRandomGenerator::global()->bounded(0, int(m.spec.vocabSize));
        const auto a = f32.forward(tokens), c = half.forward(tokens);
        const double err = double((a - c).norm()) / double(a.norm());
        // The same weights (f16 values held exactly in f32), products in f32 on both: only the
        // order of the sums differs.
        QVERIFY2(err < 1e-5, qPrintable(QString("normalized logits error %1").arg(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestRandomLlama)
#include "test_random_llama.moc"
