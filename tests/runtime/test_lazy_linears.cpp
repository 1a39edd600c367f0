// Linears left in the checkpoint (LoadOptions::lazyLinears) share a bounded cache of decoded
// weights: whatever its size (none, room for about two linears so that entries are evicted and
// decoded again, the default), the forward pass gives exactly the logits of the same model with
// its linears read up front, on fresh random tokens, twice in a row.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "core/runtime/transformer.hpp"

#include <QtTest/QtTest>

#include <random>

using namespace qs;
using runtime::Mat;

class TestLazyLinears : public QObject {
    Q_OBJECT
private slots:
    void cacheSizesGiveSameLogits_data();
    void cacheSizesGiveSameLogits();
};

void TestLazyLinears::cacheSizesGiveSameLogits_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("budget");  // QS_LAZY_CACHE_BYTES; "two" = about two q_proj weights
    for (const char* f : {"llama", "qwen2"}) {
        QTest::newRow((std::string(f) + ", no cache").c_str()) << QString(f) << QString("0");
        QTest::newRow((std::string(f) + ", room for two").c_str()) << QString(f) << QString("two");
        QTest::newRow((std::string(f) + ", default").c_str()) << QString(f) << QString();
    }
}

void TestLazyLinears::cacheSizesGiveSameLogits()
{
    QFETCH(QString, fixture);
    QFETCH(QString, budget);
    const auto dir = test::fixturesDir() / fixture.toStdString();
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        const runtime::Transformer eager(runtime::loadLlamaWeights(model));
        runtime::LoadOptions opt;
        opt.lazyLinears = true;
        const runtime::Transformer lazy(runtime::loadLlamaWeights(model, opt));
        QVERIFY(lazy.weights().blocks[0].linear(runtime::LinearRole::Q).describe().find("checkpoint") != std::string::npos);
        const auto& q = lazy.weights().blocks[0].linear(runtime::LinearRole::Q);
        const std::uint64_t qBytes = std::uint64_t(q.inFeatures()) * std::uint64_t(q.outFeatures()) * 4u;
        if (budget == "two")
            qputenv("QS_LAZY_CACHE_BYTES", QByteArray::number(qulonglong(qBytes * 5 / 2)));
        else if (budget.isEmpty())
            qunsetenv("QS_LAZY_CACHE_BYTES");
        else
            qputenv("QS_LAZY_CACHE_BYTES", budget.toUtf8());
        std::mt19937 rng(std::random_device{}());
        for (int round = 0; round < 2; ++round) {
            std::vector<std::int32_t> tokens(std::size_t(5 + rng() % 20));
            for (auto& t : tokens)
                t = std::int32_t(rng() % std::uint32_t(model.spec.vocabSize));
            const Mat a = eager.forward(tokens), b = lazy.forward(tokens);
            QVERIFY2(a == b, qPrintable(QString("round %1: logits differ, max %2").arg(round).arg((a - b).cwiseAbs().maxCoeff())));
        }
        qunsetenv("QS_LAZY_CACHE_BYTES");
    } catch (const std::exception& e) {
        qunsetenv("QS_LAZY_CACHE_BYTES");
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestLazyLinears)
#include "test_lazy_linears.moc"
