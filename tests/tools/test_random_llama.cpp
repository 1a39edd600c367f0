// The random-model writer makes checkpoints the project's own reader opens and runs.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "core/runtime/transformer.hpp"

#include <QProcess>
#include <QtTest/QtTest>

class TestRandomLlama : public QObject {
    Q_OBJECT
private slots:
    void tinyOpensAndRuns();
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

QTEST_APPLESS_MAIN(TestRandomLlama)
#include "test_random_llama.moc"
