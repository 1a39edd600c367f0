// The demo model's perplexity against transformers' (tests/fixtures/demo-ppl/ppl.json, f32,
// non-overlapping windows, first token of each window context only, no BOS). The tokens come
// from our own tokenizer, so this also checks it on the whole evaluation text. CI scores the
// first windows (QS_PPL_WINDOWS overrides; 0 = all) window by window; the full-text figure is
// in docs/benchmarks.md with the command that produced it.
#include "common/test_support.hpp"

#include "core/eval/perplexity.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"

#include <nlohmann/json.hpp>

#include <QtTest/QtTest>

using namespace qs;

class TestDemoPerplexity : public QObject {
    Q_OBJECT
private slots:
    void matchesTransformers_data();
    void matchesTransformers();
};

void TestDemoPerplexity::matchesTransformers_data()
{
    QTest::addColumn<int>("ctx");
    QTest::newRow("ctx 256") << 256;
    QTest::newRow("ctx 512") << 512;
}

void TestDemoPerplexity::matchesTransformers()
{
    QFETCH(int, ctx);
    const auto goldenPath = test::fixturesDir() / "demo-ppl" / "ppl.json";
    const auto demo = test::sourceDir() / "resources" / "demo-model";
    if (!std::filesystem::exists(goldenPath) || !std::filesystem::exists(demo / "model.safetensors"))
        QSKIP("demo model or its perplexity golden missing");
    try {
        const auto golden = nlohmann::json::parse(test::readFile(goldenPath));
        const auto& g = golden["results"]["float32"][std::to_string(ctx)];
        auto model = model::openModel(demo.string());
        QVERIFY2(model.tokenizer, model.tokenizerError.c_str());
        const auto tokens = model.tokenizer->encode(test::readFile(demo / "evaluation.txt"));
        QCOMPARE(std::int64_t(tokens.size()), golden["tokens"].get<std::int64_t>());

        int windows = 6;
        if (qEnvironmentVariableIsSet("QS_PPL_WINDOWS"))
            windows = qEnvironmentVariableIntValue("QS_PPL_WINDOWS");
        runtime::Transformer tf(runtime::loadLlamaWeights(model));
        const auto r = eval::evaluatePerplexity(tf, tokens, ctx, eval::PplProtocol::FullWindow, windows);
        const auto& ref = g["window_nll"];
        double refTotal = 0;
        for (std::size_t w = 0; w < r.windowNll.size(); ++w) {
            const double want = ref[w].get<double>();
            refTotal += want;
            QVERIFY2(std::abs(r.windowNll[w] - want) / want < 1e-4,
                     qPrintable(QString("window %1: %2 vs transformers %3").arg(w).arg(r.windowNll[w]).arg(want)));
        }
        const double ppl = r.perplexity();
        const double refPpl = std::exp(refTotal / double(r.predicted));
        qInfo("ctx %d, %zu windows: perplexity %.5f, transformers %.5f (full text: %.5f)", ctx, r.windowNll.size(), ppl,
              refPpl, g["ppl"].get<double>());
        QVERIFY(std::abs(ppl - refPpl) / refPpl < 1e-3);
        if (r.windowNll.size() == ref.size())
            QVERIFY(std::abs(ppl - g["ppl"].get<double>()) / g["ppl"].get<double>() < 1e-3);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestDemoPerplexity)
#include "test_demo_perplexity.moc"
