// A quick compare on the demo model (rtn, tiny calibration, 2 evaluation windows of 64 tokens):
// the compare table gets its row, the per-layer plot one point per linear (6 x 7 = 42), the
// metrics table an error column, the layer report the selected linear. A run cancelled midway
// leaves nothing behind and the panel idle. The longest event-loop stall during a run is
// measured with a 5 ms timer and printed.
#include "common/test_support.hpp"
#include "demo_window_support.hpp"
#include "ui/compare/compare_table_model.hpp"
#include "ui/compare/compare_view.hpp"
#include "ui/compare/run_panel.hpp"
#include "ui/metrics/linear_metrics_model.hpp"
#include "ui/metrics/metrics_panel.hpp"
#include "ui/windows/analysis_tabs.hpp"

#include <QElapsedTimer>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QtTest/QtTest>

#include <qcustomplot.h>

using qs::ui::AnalysisTabs;
using qs::ui::CompareSettings;
using qs::ui::CompareTableModel;
using qs::ui::MainWindow;

namespace {

constexpr int kRunWaitMs = 60000;

CompareSettings quickSettings()
{
    CompareSettings s;
    s.methods = {"rtn"};
    s.calibrationPreset = "tiny";
    s.evalWindows = 2;
    s.evalContext = 64;
    return s;
}

// Records the longest gap between ticks of a 5 ms timer: how long the event loop was blocked.
class StallMeter : public QObject {
public:
    StallMeter()
    {
        timer_.setInterval(5);
        timer_.setTimerType(Qt::PreciseTimer);
        connect(&timer_, &QTimer::timeout, this, [this] {
            const qint64 ns = clock_.nsecsElapsed();
            worst_ = std::max(worst_, ns - last_);
            last_ = ns;
        });
        clock_.start();
        timer_.start();
    }
    double worstMs() const { return double(worst_) / 1e6; }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = 0, worst_ = 0;
};

} // namespace

class TestCompareRun : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qs::test::isolateSettings("QuantScopeCompareTest"); }

    void quickCompareFillsTableAndPlots()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        AnalysisTabs* tabs = w.analysisTabs();
        tabs->setCurrentIndex(AnalysisTabs::CompareTab);
        QVERIFY(w.selectTensor(QStringLiteral("model.layers.2.mlp.gate_proj.weight")));
        QTRY_VERIFY(!tabs->metrics()->isScanning());
        QSignalSpy finished(tabs, &AnalysisTabs::runFinished);
        QSignalSpy progressed(tabs, &AnalysisTabs::runProgressed);

        StallMeter stalls;
        tabs->runPanel()->setSettings(quickSettings());
        QTest::mouseClick(tabs->runPanel()->runButton(), Qt::LeftButton);
        QVERIFY(tabs->isRunning());
        QVERIFY(!tabs->runPanel()->runButton()->isEnabled());
        QVERIFY(tabs->runPanel()->cancelButton()->isEnabled());
        QVERIFY(finished.wait(kRunWaitMs));
        qInfo("longest event-loop stall during the rtn compare run: %.1f ms (%lld progress signals)", stalls.worstMs(),
              static_cast<long long>(progressed.size()));
        QVERIFY2(stalls.worstMs() < 250, qPrintable(QStringLiteral("stall %1 ms").arg(stalls.worstMs())));
        QVERIFY(progressed.size() > 0);

        CompareTableModel* table = tabs->compareView()->tableModel();
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->index(0, CompareTableModel::MethodColumn).data().toString(), QStringLiteral("rtn"));
        QCOMPARE(table->index(0, CompareTableModel::StatusColumn).data().toString(), QStringLiteral("ok"));
        const auto* m = table->methodAt(0);
        QVERIFY(m && m->ok());
        QCOMPARE(int(m->run.layers.size()), 42);
        const double bits = table->index(0, CompareTableModel::BitsColumn).data(CompareTableModel::SortRole).toDouble();
        QVERIFY(bits > 4.0 && bits < 5.0); // w4 g128 asym: 4 bits + scales and zeros
        const double top1 = table->index(0, CompareTableModel::Top1Column).data(CompareTableModel::SortRole).toDouble();
        QVERIFY(top1 > 0.5 && top1 <= 1.0);
        QCOMPARE(table->results()->evalWindows, 2);
        QCOMPARE(table->results()->evalContext, 64);
        QCOMPARE(table->results()->calibrationSamples, 4);

        QCustomPlot* plot = tabs->compareView()->layerErrorPlot();
        QCOMPARE(plot->graphCount(), 1);
        QCOMPARE(plot->graph(0)->data()->size(), 42);
        QCOMPARE(plot->graph(0)->name(), QStringLiteral("rtn"));

        // The selected linear's report, and the error column in the metrics table.
        auto* report = tabs->compareView()->layerReportModel();
        QCOMPARE(report->rowCount(), 1);
        QVERIFY(report->index(0, 1).data().toString().startsWith(QStringLiteral("int4")));
        auto* metrics = tabs->metrics()->metricsModel();
        QCOMPARE(metrics->methods(), QStringList{QStringLiteral("rtn")});
        const int row = metrics->rowOf(2, 4);
        QCOMPARE(metrics->error(row, 0), m->run.layers[std::size_t(2 * 7 + 4)].outputRelError);
        QVERIFY(qs::test::labelText(w, "computeLabel").startsWith(QStringLiteral("Compute: cpu")));
        QVERIFY(!tabs->runPanel()->cancelButton()->isEnabled());
    }

    void cancelMidwayLeavesNothingBehind()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        AnalysisTabs* tabs = w.analysisTabs();
        QSignalSpy cancelled(tabs, &AnalysisTabs::runCancelled);
        QSignalSpy finished(tabs, &AnalysisTabs::runFinished);
        bool cancelSent = false;
        QElapsedTimer sinceCancel;
        // Cancel once the first method is quantizing: past the reference, in the middle of it all.
        connect(tabs, &AnalysisTabs::runProgressed, this, [&](const QString& stage, double, double) {
            if (!cancelSent && stage.startsWith(QStringLiteral("[1/2] rtn: calibrating"))) {
                cancelSent = true;
                sinceCancel.start();
                QTest::mouseClick(tabs->runPanel()->cancelButton(), Qt::LeftButton);
            }
        });
        StallMeter stalls;
        CompareSettings s = quickSettings();
        s.methods = {"rtn", "nf4"};
        s.calibrationPreset = "quick";
        tabs->startCompare(s);
        QVERIFY(cancelled.wait(kRunWaitMs));
        QVERIFY(cancelSent);
        qInfo("cancel took effect after %lld ms; longest stall %.1f ms", static_cast<long long>(sinceCancel.elapsed()),
              stalls.worstMs());
        QVERIFY(sinceCancel.elapsed() < 5000);
        QCOMPARE(finished.size(), 0);
        QVERIFY(!tabs->isRunning());
        QVERIFY(tabs->runPanel()->runButton()->isEnabled());
        QVERIFY(!tabs->runPanel()->cancelButton()->isEnabled());
        QCOMPARE(tabs->runPanel()->progressBar()->value(), 0);
        QCOMPARE(tabs->compareView()->tableModel()->rowCount(), 0);
        QCOMPARE(tabs->compareView()->layerErrorPlot()->graphCount(), 0);
        QCOMPARE(tabs->metrics()->metricsModel()->methods().size(), 0);

        // And the next run works.
        tabs->startCompare(quickSettings());
        QVERIFY(finished.wait(kRunWaitMs));
        QCOMPARE(tabs->compareView()->tableModel()->rowCount(), 1);
    }

    // The calibration text is the user's file when given: a missing one fails the run with its
    // path in the message; a real one (the demo's evaluation text) runs.
    void calibrationTextIsUsed()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        AnalysisTabs* tabs = w.analysisTabs();
        QSignalSpy finished(tabs, &AnalysisTabs::runFinished);
        QSignalSpy failed(tabs, &AnalysisTabs::runFailed);
        CompareSettings s = quickSettings();
        s.calibrationText = "/nonexistent/calibration-text.txt";
        tabs->startCompare(s);
        QVERIFY(failed.wait(kRunWaitMs));
        const QString message = failed.takeFirst().at(0).toString();
        QVERIFY2(message.contains(QStringLiteral("/nonexistent/calibration-text.txt")), qPrintable(message));
        QCOMPARE(finished.size(), 0);
        QTRY_VERIFY(!tabs->isRunning());

        s.calibrationText = (qs::test::sourceDir() / "resources/demo-model/evaluation.txt").string();
        tabs->startCompare(s);
        QVERIFY(finished.wait(kRunWaitMs));
        QCOMPARE(failed.size(), 0);
        QCOMPARE(tabs->compareView()->tableModel()->rowCount(), 1);
    }
};

QTEST_MAIN(TestCompareRun)
#include "test_compare_run.moc"
