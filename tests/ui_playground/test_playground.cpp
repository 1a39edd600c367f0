// The generation playground on the demo model: greedy generation streams into both panes and
// ends with exactly the text core generate gives for the original and for an RTN copy made
// directly with quantizeModel; the quantized copy is kept for the next prompt; sampling with a
// seed repeats; cancelling stops both sides early and leaves the view idle.
#include "core/compute/backend.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/generate.hpp"
#include "ui/playground/generation_pane.hpp"
#include "ui/playground/playground_view.hpp"

#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest/QtTest>

using qs::ui::PlaygroundSettings;
using qs::ui::PlaygroundView;

namespace {

constexpr int kWaitMs = 60000;

qs::ui::ModelPtr openDemo()
{
    return std::make_shared<const qs::model::Model>(qs::model::openModel(QS_SOURCE_DIR "/resources/demo-model"));
}

// What core generate gives directly: prompt with BOS, EOS stops, special tokens skipped.
std::string directText(const qs::runtime::Transformer& t, const qs::io::Tokenizer& tok, const PlaygroundSettings& s)
{
    qs::runtime::SamplingOptions o = s.sampling();
    o.stopToken = tok.spec().eosId;
    return tok.decode(qs::runtime::generate(t, tok.encode(s.prompt, true), o), true);
}

PlaygroundSettings greedy(int tokens)
{
    PlaygroundSettings s;
    s.prompt = "The little robot";
    s.method = "rtn";
    s.bits = 3; // far enough from the original that the two texts can differ
    s.groupSize = 64;
    s.maxTokens = tokens;
    s.temperature = 0.0f;
    return s;
}

} // namespace

class TestPlayground : public QObject {
    Q_OBJECT
private slots:
    void greedyMatchesCoreGenerate()
    {
        try {
            const auto model = openDemo();
            PlaygroundView view;
            view.resize(1000, 600);
            view.show();
            view.setModel(model);
            const PlaygroundSettings s = greedy(24);
            view.setSettings(s);
            QSignalSpy finished(&view, &PlaygroundView::generationFinished);
            QSignalSpy failed(&view, &PlaygroundView::generationFailed);
            QTest::mouseClick(view.generateButton(), Qt::LeftButton);
            QVERIFY(view.isRunning());
            QVERIFY(!view.generateButton()->isEnabled());
            QVERIFY(view.cancelButton()->isEnabled());
            QVERIFY2(finished.wait(kWaitMs), failed.isEmpty() ? "timeout" : qPrintable(failed.at(0).at(0).toString()));
            QVERIFY(!view.isRunning());
            QVERIFY(view.generateButton()->isEnabled());

            const qs::io::Tokenizer& tok = *model->tokenizer;
            const qs::runtime::Transformer original(qs::runtime::loadLlamaWeights(*model));
            const QString expectOriginal = QString::fromStdString(directText(original, tok, s));
            qs::runtime::Transformer rtn(qs::runtime::loadLlamaWeights(*model));
            qs::quant::quantizeModel(rtn, s.quantConfig(), nullptr, qs::compute::makeCpuBackend());
            const QString expectQuantized = QString::fromStdString(directText(rtn, tok, s));
            QVERIFY(!expectOriginal.isEmpty());
            qInfo("original:  %s", qPrintable(expectOriginal));
            qInfo("quantized: %s", qPrintable(expectQuantized));

            auto* o = view.pane(PlaygroundView::Original);
            auto* q = view.pane(PlaygroundView::Quantized);
            QCOMPARE(o->generatedText(), expectOriginal);
            QCOMPARE(q->generatedText(), expectQuantized);
            QVERIFY(o->tokenCount() > 0 && o->tokenCount() <= 24);
            QVERIFY2(o->statusText().contains(QStringLiteral("tokens/s")), qPrintable(o->statusText()));
            // The pane shows the prompt and then the streamed text.
            QCOMPARE(o->textView()->toPlainText(), QString::fromStdString(s.prompt) + expectOriginal);

            // A second prompt reuses the prepared models: no "loading weights" stage this time.
            QSignalSpy finished2(&view, &PlaygroundView::generationFinished);
            PlaygroundSettings s2 = s;
            s2.prompt = "Once upon a time";
            s2.maxTokens = 8;
            view.setSettings(s2);
            view.generate();
            QVERIFY(finished2.wait(kWaitMs));
            QCOMPARE(view.pane(PlaygroundView::Quantized)->generatedText(),
                     QString::fromStdString(directText(rtn, tok, s2)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void sampledWithSeedRepeats()
    {
        try {
            const auto model = openDemo();
            PlaygroundView view;
            view.setModel(model);
            PlaygroundSettings s = greedy(16);
            s.temperature = 0.9f;
            s.topP = 0.9f;
            s.seed = 7;
            view.setSettings(s);
            QSignalSpy finished(&view, &PlaygroundView::generationFinished);
            view.generate();
            QVERIFY(finished.wait(kWaitMs));
            const QString first = view.pane(PlaygroundView::Original)->generatedText();
            const qs::runtime::Transformer original(qs::runtime::loadLlamaWeights(*model));
            QCOMPARE(first, QString::fromStdString(directText(original, *model->tokenizer, s)));
            s.seed = 8;
            view.setSettings(s);
            view.generate();
            QVERIFY(finished.wait(kWaitMs));
            QCOMPARE(view.pane(PlaygroundView::Original)->generatedText(),
                     QString::fromStdString(directText(original, *model->tokenizer, s)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void cancelStopsBothSides()
    {
        try {
            const auto model = openDemo();
            PlaygroundView view;
            view.setModel(model);
            PlaygroundSettings s = greedy(900);
            s.temperature = 1.0f; // sampling rarely hits EOS early
            s.topP = 1.0f;
            view.setSettings(s);
            QSignalSpy cancelled(&view, &PlaygroundView::generationCancelled);
            QSignalSpy finished(&view, &PlaygroundView::generationFinished);
            view.generate();
            auto* o = view.pane(PlaygroundView::Original);
            QTRY_VERIFY_WITH_TIMEOUT(o->tokenCount() >= 2, kWaitMs);
            QTest::mouseClick(view.cancelButton(), Qt::LeftButton);
            QVERIFY(cancelled.wait(kWaitMs));
            QVERIFY(finished.isEmpty());
            QVERIFY(!view.isRunning());
            QVERIFY(view.generateButton()->isEnabled());
            QVERIFY(!view.cancelButton()->isEnabled());
            QVERIFY(o->tokenCount() < 900);
            QVERIFY2(o->statusText().startsWith(QStringLiteral("Cancelled")), qPrintable(o->statusText()));
            // Nothing arrives after the cancel was reported.
            const QString shown = o->textView()->toPlainText();
            QTest::qWait(200);
            QCOMPARE(o->textView()->toPlainText(), shown);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_MAIN(TestPlayground)
#include "test_playground.moc"
