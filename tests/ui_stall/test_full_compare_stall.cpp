// The longest event-loop stall during a full compare: all six methods with the run panel's
// default settings (quick calibration, 8 evaluation windows of 256 tokens) on the demo model,
// in a shown window on the Compare tab with a layer selected, so every result view redraws.
// Opt-in (QS_FULL_COMPARE=1): it takes minutes. Prints the longest wall-clock gap between
// ticks of a 5 ms timer and fails when the GUI thread itself computed 50 ms or more between two.
#include "stall_meter.hpp"
#include "ui/compare/compare_view.hpp"
#include "ui/compare/run_panel.hpp"
#include "ui/metrics/metrics_panel.hpp"
#include "ui/windows/analysis_tabs.hpp"
#include "ui/windows/main_window.hpp"

#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest/QtTest>

using qs::ui::AnalysisTabs;

class TestFullCompareStall : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("QuantScopeStallTest"));
    }

    void sixMethodCompare()
    {
        if (qgetenv("QS_FULL_COMPARE") != "1")
            QSKIP("set QS_FULL_COMPARE=1 to run the full six-method compare (minutes)");
        qs::ui::MainWindow w;
        w.resize(1280, 800);
        w.show();
        QSignalSpy opened(&w, &qs::ui::MainWindow::modelOpened);
        w.openModel(QStringLiteral(QS_SOURCE_DIR "/resources/demo-model"));
        QVERIFY(opened.wait(20000));
        AnalysisTabs* tabs = w.analysisTabs();
        tabs->setCurrentIndex(AnalysisTabs::CompareTab);
        QVERIFY(w.selectTensor(QStringLiteral("model.layers.2.mlp.gate_proj.weight")));
        QTRY_VERIFY_WITH_TIMEOUT(!tabs->metrics()->isScanning(), 20000);

        qs::ui::CompareSettings s = qs::ui::RunPanel().settings(); // the GUI's defaults
        s.methods = {"rtn", "absmax", "smoothquant", "gptq", "awq", "nf4"};
        tabs->runPanel()->setSettings(s);
        qs::test::StallMeter stalls;
        QString stage = QStringLiteral("start");
        connect(tabs, &AnalysisTabs::runProgressed, this, [&](const QString& st, double, double) {
            stalls.note(QStringLiteral("after progress '%1'").arg(st));
        });
        connect(tabs, &AnalysisTabs::runFinished, this, [&] { stalls.note(QStringLiteral("after results shown")); });
        QSignalSpy finished(tabs, &AnalysisTabs::runFinished);
        QSignalSpy failed(tabs, &AnalysisTabs::runFailed);
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(tabs->runPanel()->runButton(), Qt::LeftButton);
        QVERIFY(finished.wait(1500 * 1000));
        QVERIFY(failed.isEmpty());
        // Let the result views draw (the plots replot on the next paint).
        stalls.note(QStringLiteral("painting results"));
        QTest::qWait(1000);
        qInfo("full compare (%d methods, %s calibration, %d windows of %d) took %.1f s; longest event-loop stall "
              "%.1f ms (%s), GUI-thread CPU in it %.1f ms; most GUI-thread CPU between two ticks %.1f ms; "
              "gaps over 50 ms: %d",
              int(s.methods.size()), s.calibrationPreset.c_str(), s.evalWindows, s.evalContext,
              double(clock.elapsed()) / 1000.0, stalls.worstMs(), qPrintable(stalls.worstDuring()),
              stalls.worstGapCpuMs(), stalls.worstBusyMs(), stalls.gapsOver50Ms());
        // What the GUI thread computed itself; wall-clock gaps also count the scheduler's delays on
        // a loaded machine, which no change to the GUI code can remove.
        QVERIFY2(stalls.worstBusyMs() < 50, qPrintable(QStringLiteral("GUI thread busy %1 ms").arg(stalls.worstBusyMs())));
    }
};

QTEST_MAIN(TestFullCompareStall)
#include "test_full_compare_stall.moc"
