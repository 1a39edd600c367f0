// The activation inspector on the demo model, offscreen: a tiny calibration run fills the linear
// list and the channel plot (absmax and mean |x| per channel, outliers above the stated rule),
// the alpha slider redraws the smoothing preview from the method's scales at once and the exact
// int8 errors arrive from the worker for the slider's alpha; a cancelled run leaves nothing.
#include "common/test_support.hpp"
#include "core/model/model.hpp"
#include "core/quant/smoothquant_scaling.hpp"
#include "ui/activations/activation_inspector.hpp"

#include <QComboBox>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest/QtTest>

#include <qcustomplot.h>

using qs::ui::ActivationInspector;
using qs::ui::ActivationRunSettings;

namespace {

constexpr int kWaitMs = 90000;

qs::ui::ModelPtr demo() { return std::make_shared<const qs::model::Model>(qs::model::openModel("demo")); }

ActivationRunSettings tiny()
{
    ActivationRunSettings s;
    s.preset = "tiny";
    s.sampleRows = 32;
    return s;
}

} // namespace

class TestActivationInspector : public QObject {
    Q_OBJECT
private slots:
    void calibrateSelectAndSlide()
    {
        try {
            ActivationInspector view;
            view.resize(1100, 760);
            view.show();
            view.setModel(demo());
            QSignalSpy ready(&view, &ActivationInspector::profileReady);
            QSignalSpy analysed(&view, &ActivationInspector::smoothingAnalysed);
            view.startCalibration(tiny());
            QVERIFY(!view.runButton()->isEnabled());
            QVERIFY(ready.wait(kWaitMs));
            QVERIFY(view.run());
            const auto& profile = view.run()->profile;
            QCOMPARE(int(profile.linears.size()), 42);
            QCOMPARE(view.linearCombo()->count(), 42);
            QCOMPARE(profile.samples, 4);

            // Follow the main selection: block 2 gate_proj.
            view.selectLinear(2, int(qs::runtime::LinearRole::Gate));
            const int gate = profile.indexOf(2, qs::runtime::LinearRole::Gate);
            QCOMPARE(view.currentLinear(), gate);
            QTRY_VERIFY_WITH_TIMEOUT(view.smoothing() && view.smoothing()->linear == gate, kWaitMs);
            const auto& lin = profile.linears[std::size_t(gate)];
            const auto& site = profile.siteOf(lin);

            // Channel plot: absmax, mean |x|, and the outliers with the rule's threshold.
            QCustomPlot* ch = view.channelPlot();
            QCOMPARE(ch->graphCount(), 3);
            QCOMPARE(ch->graph(0)->data()->size(), int(site.absmax.size()));
            QCOMPARE(ch->graph(0)->data()->at(7)->value, double(site.absmax[7]));
            QCOMPARE(ch->graph(1)->data()->at(7)->value, double(site.meanAbs[7]));
            QCOMPARE(ch->graph(2)->data()->size(), int(view.outliers().channels.size()));
            for (int j = 0; j < int(site.absmax.size()); ++j) {
                const bool flagged = std::count(view.outliers().channels.begin(), view.outliers().channels.end(), j) > 0;
                QCOMPARE(flagged, double(site.absmax[j]) > view.outliers().threshold);
            }

            // The preview at alpha 0.5 uses the method's s; the plot holds max|X|/s and max|W|*s.
            view.setAlpha(0.5f);
            const qs::runtime::Vec s = qs::quant::smoothingScalesFromAbsmax(site.absmax, lin.groupWeightAbsmax, 0.5f);
            QVERIFY(view.preview());
            QCOMPARE(double((view.preview()->scales - s).cwiseAbs().maxCoeff()), 0.0);
            QCustomPlot* sm = view.smoothingPlot();
            QCOMPARE(sm->graphCount(), 4);
            QVERIFY(std::fabs(sm->graph(2)->data()->at(3)->value - double(site.absmax[3] / s[3])) < 1e-6);
            QVERIFY(std::fabs(sm->graph(3)->data()->at(3)->value - double(lin.weightAbsmax[3] * s[3])) < 1e-6);
            const double spread05 = view.preview()->activationSpread;

            // Sweep: four error curves over 21 alphas.
            QCOMPARE(view.sweepPlot()->graphCount(), 4);
            QCOMPARE(view.sweepPlot()->graph(0)->data()->size(), qs::ui::kAlphaSweepSteps + 1);

            // Slide to 0.8: the preview follows at once, the exact errors follow from the worker.
            QSignalSpy errors(&view, &ActivationInspector::errorsUpdated);
            // Each step: the preview (O(channels)) and the repaint, all on the GUI thread.
            double worst = 0;
            for (int v : {60, 65, 70, 75, 80}) {
                QElapsedTimer clock;
                clock.start();
                view.alphaSlider()->setValue(v);
                QCoreApplication::processEvents(); // the queued replots
                worst = std::max(worst, double(clock.nsecsElapsed()) / 1e6);
            }
            qInfo("alpha slider step on the GUI thread, worst of 5: %.1f ms (%d channels, repaint included)", worst,
                  int(site.absmax.size()));
            QVERIFY2(worst < 250, qPrintable(QString::number(worst)));
            QCOMPARE(double(view.preview()->alpha), double(0.8f));
            QVERIFY(view.preview()->activationSpread < spread05);
            QTRY_VERIFY_WITH_TIMEOUT(view.errorsAtAlpha() && std::fabs(view.errorsAtAlpha()->alpha - 0.8f) < 1e-6,
                                     kWaitMs);
            const auto expect = qs::ui::int8ErrorAtAlpha(*view.run(), gate, *view.smoothing()->weight, 0.8f);
            QCOMPARE(view.errorsAtAlpha()->weight, expect.weight);
            QCOMPARE(view.errorsAtAlpha()->output, expect.output);
            QVERIFY(expect.output > 0 && expect.output < 0.5);
            QTRY_VERIFY_WITH_TIMEOUT(!view.isBusy(), kWaitMs);

            const QString shot = qEnvironmentVariable("QS_TEST_SCREENSHOT_DIR");
            if (!shot.isEmpty())
                QVERIFY(view.grab().save(shot + QStringLiteral("/activations-test.png")));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void cancelLeavesNothing()
    {
        ActivationInspector view;
        view.setModel(demo());
        QSignalSpy ready(&view, &ActivationInspector::profileReady);
        ActivationRunSettings s = tiny();
        s.preset = "quick";
        view.startCalibration(s);
        QTest::qWait(50);
        view.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!view.isBusy(), kWaitMs);
        QCOMPARE(ready.size(), 0);
        QVERIFY(!view.run());
        QVERIFY(view.runButton()->isEnabled());
        QCOMPARE(view.linearCombo()->count(), 0);
    }
};

QTEST_MAIN(TestActivationInspector)
#include "test_activation_inspector.moc"
