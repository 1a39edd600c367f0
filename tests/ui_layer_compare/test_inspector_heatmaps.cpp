// Tensor inspector additions, offscreen on the demo model: clip thresholds and clipped mass on
// the histogram (checked against a direct count), the raw-value drill-down model (through
// QAbstractItemModelTester), and after a quick compare the error and scale heatmaps of a method
// for the selected linear, whose cells and drill-down values are the kept weights' own.
#include "../ui/demo_window_support.hpp"
#include "ui/compare/compare_job.hpp"
#include "ui/inspector/heatmap_panel.hpp"
#include "ui/inspector/raw_block_model.hpp"
#include "ui/inspector/tensor_analysis.hpp"
#include "ui/inspector/tensor_inspector.hpp"
#include "ui/windows/analysis_tabs.hpp"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QtTest/QtTest>

#include <qcustomplot.h>

using namespace qs;
using qs::ui::HeatmapKind;

namespace {

constexpr int kRunWaitMs = 90000;
const QString kDown = QStringLiteral("model.layers.1.mlp.down_proj.weight");

int itemsWith(QCustomPlot* plot, const char* property)
{
    int n = 0;
    for (int i = 0; i < plot->itemCount(); ++i)
        n += plot->item(i)->property(property).toBool() ? 1 : 0;
    return n;
}

} // namespace

class TestInspectorHeatmaps : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qs::test::isolateSettings("QuantScopeHeatmapTest"); }

    void rawBlockModel()
    {
        ui::RawBlockModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0);
        auto v = std::make_shared<std::vector<float>>(20 * 30);
        for (std::size_t i = 0; i < v->size(); ++i)
            (*v)[i] = float(i) * 0.5f;
        auto at = [v](int r, int c) { return double((*v)[std::size_t(r) * 30 + std::size_t(c)]); };
        m.setBlock(at, 20, 30, 10, 12, QStringLiteral("W"));
        QCOMPARE(m.rowCount(), 7);
        QCOMPARE(m.columnCount(), 7);
        QCOMPARE(m.headerData(0, Qt::Vertical).toInt(), 7);
        QCOMPARE(m.index(3, 3).data(Qt::EditRole).toDouble(), at(10, 12));
        m.setBlock(at, 20, 30, 19, 0, QStringLiteral("W")); // corner: the window shifts, stays 7 x 7
        QCOMPARE(m.firstRow(), 13);
        QCOMPARE(m.firstCol(), 0);
        QCOMPARE(m.index(6, 0).data(Qt::EditRole).toDouble(), at(19, 0));
        QVERIFY(m.index(6, 0).data(Qt::BackgroundRole).isValid()); // the centre cell is marked
        m.setBlock(at, 2, 3, 1, 1, QStringLiteral("W")); // smaller than a block
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.columnCount(), 3);
        m.clear();
        QCOMPARE(m.rowCount(), 0);
    }

    void clipMassAndHeatmaps()
    {
        ui::MainWindow w;
        w.resize(1280, 800);
        w.show();
        QVERIFY(qs::test::openDemo(w));
        ui::AnalysisTabs* tabs = w.analysisTabs();
        ui::TensorInspector* inspector = tabs->inspector();
        QSignalSpy shown(inspector, &ui::TensorInspector::analysisShown);
        QVERIFY(w.selectTensor(kDown));
        QVERIFY(shown.wait(qs::test::kWaitMs));
        const ui::TensorAnalysis* a = inspector->analysis();
        QVERIFY(a && a->values);

        // Clip thresholds: the INT4 g128 grid's ends +- half a step, the mass beyond counted here.
        inspector->setOverlay(ui::GridOverlay::Int4, 128);
        const ui::IntGridOverlay* g = a->int4Grid(128);
        QCOMPARE(g->clipLo, g->levels.front() - 0.5 * g->medianScale);
        std::size_t beyond = 0;
        for (float v : *a->values)
            beyond += (v < g->clipLo || v > g->clipHi) ? 1 : 0;
        QCOMPARE(g->clippedFraction, double(beyond) / double(a->values->size()));
        QVERIFY(g->clippedFraction > 0 && g->clippedFraction < 0.5);
        QCOMPARE(itemsWith(inspector->histogramPlot(), "clipOverlay"), 2);
        QVERIFY(qs::test::labelText(*inspector, "overlayNote").contains(QStringLiteral("beyond")));
        inspector->setOverlay(ui::GridOverlay::None, 0);
        QCOMPARE(itemsWith(inspector->histogramPlot(), "clipOverlay"), 0);

        // Drill-down starts at the largest |W|.
        ui::HeatmapPanel* panel = inspector->heatmapPanel();
        ui::RawBlockModel* raw = panel->rawModel();
        QAbstractItemModelTester tester(raw, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(raw->centerRow(), a->maxRow);
        QCOMPARE(raw->centerCol(), a->maxCol);
        const double top = (*a->values)[std::size_t(a->maxRow) * 1024 + std::size_t(a->maxCol)];
        QCOMPARE(std::fabs(top), a->stats.absmax);
        QCOMPARE(raw->index(a->maxRow - raw->firstRow(), a->maxCol - raw->firstCol()).data(Qt::EditRole).toDouble(), top);

        // A quick compare keeps the linear's weights: error and scale heatmaps for rtn.
        QVERIFY(!panel->setMode(HeatmapKind::Error, QStringLiteral("rtn"))); // nothing kept yet
        ui::CompareSettings s;
        s.methods = {"rtn", "nf4"};
        s.calibrationPreset = "tiny";
        s.evalWindows = 1;
        s.evalContext = 32;
        QSignalSpy finished(tabs, &ui::AnalysisTabs::runFinished);
        tabs->startCompare(s);
        QVERIFY(finished.wait(kRunWaitMs));
        QCOMPARE(panel->modeCombo()->count(), 5); // |W|, then error and scales per method

        QSignalSpy heat(panel, &ui::HeatmapPanel::heatmapShown);
        QVERIFY(panel->setMode(HeatmapKind::Error, QStringLiteral("rtn")));
        QVERIFY(heat.wait(qs::test::kWaitMs));
        const ui::MethodHeatmap* h = panel->methodHeatmap();
        QVERIFY(h && h->snapshot);
        auto* map = qobject_cast<QCPColorMap*>(panel->plot()->plottable(0));
        QCOMPARE(map->data()->keySize(), 512); // 1024 input channels pooled by 2
        QCOMPARE(map->data()->valueSize(), 384);
        float maxErr = 0;
        for (const auto& e : h->snapshot->error)
            maxErr = std::max(maxErr, std::fabs(float(e)));
        QCOMPARE(map->data()->dataBounds().upper, double(maxErr));
        panel->showCell(10, 20);
        QCOMPARE(raw->index(10 - raw->firstRow(), 20 - raw->firstCol()).data(Qt::EditRole).toDouble(),
                 double(h->snapshot->errorAt(10, 20)));
        QVERIFY(std::fabs(h->snapshot->errorAt(10, 20)) <= h->snapshot->scales.scales(10, 0)); // within a step

        QVERIFY(panel->setMode(HeatmapKind::Scales, QStringLiteral("rtn")));
        QVERIFY(heat.wait(qs::test::kWaitMs));
        QCOMPARE(map->data()->keySize(), 8); // 1024 / 128 groups
        QCOMPARE(map->data()->valueSize(), 384);
        panel->showCell(5, 3);
        QCOMPARE(raw->index(5 - raw->firstRow(), 3 - raw->firstCol()).data(Qt::EditRole).toDouble(),
                 double(panel->methodHeatmap()->snapshot->scales.scales(5, 3)));

        const QString shot = qEnvironmentVariable("QS_TEST_SCREENSHOT_DIR");
        if (!shot.isEmpty()) {
            tabs->setCurrentIndex(ui::AnalysisTabs::InspectorTab);
            inspector->setOverlay(ui::GridOverlay::Int4, 128);
            QVERIFY(panel->setMode(HeatmapKind::Error, QStringLiteral("rtn")));
            QVERIFY(heat.wait(qs::test::kWaitMs));
            panel->showCell(a->maxRow, a->maxCol);
            QVERIFY(w.grab().save(shot + QStringLiteral("/inspector-heatmaps-test.png")));
        }
    }
};

QTEST_MAIN(TestInspectorHeatmaps)
#include "test_inspector_heatmaps.moc"
