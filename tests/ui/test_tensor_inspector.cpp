// The tensor inspector on the demo model: the histogram holds every value (bar sum = numel),
// the stats labels show what computeStats says, the NF4 and INT4 grids are drawn over it, the
// channel plots mark outliers by the stated rule, and the |W| heatmap is pooled.
#include "demo_window_support.hpp"
#include "core/tensor/stats.hpp"
#include "ui/inspector/tensor_analysis.hpp"
#include "ui/inspector/tensor_inspector.hpp"
#include "ui/windows/analysis_tabs.hpp"

#include <QComboBox>
#include <QtTest/QtTest>

#include <qcustomplot.h>

using qs::ui::AnalysisTabs;
using qs::ui::MainWindow;
using qs::ui::TensorInspector;

namespace {

int overlayLines(QCustomPlot* plot)
{
    int n = 0;
    for (int i = 0; i < plot->itemCount(); ++i)
        n += plot->item(i)->property("gridOverlay").toBool() ? 1 : 0;
    return n;
}

QString fmt(double v) { return QString::number(v, 'g', 4); }

} // namespace

class TestTensorInspector : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qs::test::isolateSettings("QuantScopeInspectorTest"); }

    void histogramHoldsEveryValueAndStatsMatch()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        TensorInspector* inspector = w.analysisTabs()->inspector();
        QSignalSpy shown(inspector, &TensorInspector::analysisShown);
        const QString name = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
        w.analysisTabs()->setCurrentIndex(AnalysisTabs::InspectorTab);
        QVERIFY(w.selectTensor(name));
        QVERIFY(shown.wait(qs::test::kWaitMs));
        QCOMPARE(shown.last().first().toString(), name);

        const qs::Tensor t = w.currentModel()->checkpoint->readF32(name.toStdString());
        const qs::TensorStats expected = qs::computeStats(t.data, qs::ui::kInspectorBins);
        QCOMPARE(t.numel(), qint64(384 * 384));

        auto* bars = qobject_cast<QCPBars*>(inspector->histogramPlot()->plottable(0));
        QVERIFY(bars);
        double sum = 0;
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
            sum += it->value;
        QCOMPARE(qint64(sum), t.numel());
        QCOMPARE(bars->pen().style(), Qt::NoPen);
        QVERIFY(!bars->antialiased());
        QCOMPARE(inspector->histogramPlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);

        QCOMPARE(qs::test::labelText(*inspector, "inspectorAbsmax"), fmt(expected.absmax));
        QCOMPARE(qs::test::labelText(*inspector, "inspectorKurtosis"), fmt(expected.kurtosis));
        QVERIFY(qs::test::labelText(*inspector, "inspectorBeyond6Sigma")
                    .startsWith(QString::number(expected.beyond6Sigma)));

        // NF4 is the default overlay: its 16 levels; INT4 has 16 too, at the chosen group size.
        QCOMPARE(overlayLines(inspector->histogramPlot()), 16);
        QVERIFY(qs::test::labelText(*inspector, "overlayNote").contains(QStringLiteral("NF4")));
        inspector->setOverlay(qs::ui::GridOverlay::Int4, 128);
        QCOMPARE(overlayLines(inspector->histogramPlot()), 16);
        QVERIFY(qs::test::labelText(*inspector, "overlayNote").contains(QStringLiteral("group 128")));
        inspector->setOverlay(qs::ui::GridOverlay::None, 0);
        QCOMPARE(overlayLines(inspector->histogramPlot()), 0);

        // Channel plots: one point per channel, outliers as the rule says.
        const auto* a = inspector->analysis();
        QVERIFY(a);
        QCOMPARE(inspector->rowAbsmaxPlot()->graph(0)->data()->size(), 384);
        QCOMPARE(inspector->colAbsmaxPlot()->graph(0)->data()->size(), 384);
        QCOMPARE(inspector->rowAbsmaxPlot()->graph(1)->data()->size(), int(a->rowOutliers.size()));
        for (int i : a->colOutliers)
            QVERIFY(a->colAbsmax[std::size_t(i)] > a->colOutlierThreshold);

        // Heatmap: 384 x 384 needs no pooling.
        auto* map = qobject_cast<QCPColorMap*>(inspector->heatmapPlot()->plottable(0));
        QVERIFY(map);
        QCOMPARE(map->data()->keySize(), 384);
        QCOMPARE(map->data()->valueSize(), 384);
        QVERIFY(map->dataRange().upper <= expected.absmax + 1e-6);
    }

    void largeTensorIsPooledAndVectorsHaveNoChannelPlots()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        TensorInspector* inspector = w.analysisTabs()->inspector();
        QSignalSpy shown(inspector, &TensorInspector::analysisShown);
        QVERIFY(w.selectTensor(QStringLiteral("model.embed_tokens.weight"))); // 8192 x 384
        QVERIFY(shown.wait(qs::test::kWaitMs));
        auto* map = qobject_cast<QCPColorMap*>(inspector->heatmapPlot()->plottable(0));
        QVERIFY(map);
        QVERIFY(map->data()->valueSize() <= qs::ui::kHeatmapSide);
        QCOMPARE(map->data()->valueSize(), 8192 / 16);

        QVERIFY(w.selectTensor(QStringLiteral("model.layers.2.input_layernorm.weight")));
        QVERIFY(shown.wait(qs::test::kWaitMs));
        QCOMPARE(qobject_cast<QCPColorMap*>(inspector->heatmapPlot()->plottable(0))->data()->keySize(), 0); // no heatmap
        QVERIFY(qs::test::labelText(*inspector, "inspectorOutlierChannels").startsWith(QStringLiteral("n/a")));
        auto* bars = qobject_cast<QCPBars*>(inspector->histogramPlot()->plottable(0));
        double sum = 0;
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
            sum += it->value;
        QCOMPARE(qint64(sum), qint64(384));
    }

    void quickReselectionShowsOnlyTheLastTensor()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        TensorInspector* inspector = w.analysisTabs()->inspector();
        QSignalSpy shown(inspector, &TensorInspector::analysisShown);
        QVERIFY(w.selectTensor(QStringLiteral("model.embed_tokens.weight")));
        QVERIFY(w.selectTensor(QStringLiteral("model.layers.1.mlp.up_proj.weight")));
        QVERIFY(w.selectTensor(QStringLiteral("model.layers.5.mlp.down_proj.weight")));
        QVERIFY(shown.wait(qs::test::kWaitMs));
        QTRY_VERIFY(!inspector->isBusy());
        QCOMPARE(shown.size(), 1);
        QCOMPARE(shown.first().first().toString(), QStringLiteral("model.layers.5.mlp.down_proj.weight"));
    }
};

QTEST_MAIN(TestTensorInspector)
#include "test_tensor_inspector.moc"
