// One layer under every method, offscreen: a quick compare run (rtn, absmax, nf4 on the demo
// model) keeps each linear's weights; the view then holds, per method, histograms of W' and of
// W' - W whose counts add up to the layer's size, an error that agrees with the method's own
// LayerReport and with an independent RTN, the stored scales, linked axes across panes, and
// the per-layer error of the whole model with one line per method. A tiny budget keeps nothing
// and the view says so.
#include "common/test_support.hpp"
#include "core/model/model.hpp"
#include "ui/compare/layer_compare_data.hpp"
#include "ui/compare/layer_compare_view.hpp"

#include <QLabel>
#include <QSignalSpy>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include <numeric>

using namespace qs;
using qs::ui::LayerCompareView;

namespace {

constexpr int kWaitMs = 60000;
constexpr int kDown = int(runtime::LinearRole::Down);

std::shared_ptr<const ui::CompareResults> quickRun(const model::Model& m)
{
    ui::CompareSettings s;
    s.methods = {"rtn", "absmax", "nf4"};
    s.calibrationPreset = "tiny";
    s.evalWindows = 1;
    s.evalContext = 32;
    return ui::runCompare(m, s, [](const std::string&) { return jobs::Progress(); });
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// Independent RTN: asymmetric 4-bit min-max per group of 128 (GPTQ's find_params), squared error.
double rtnMse(const runtime::Mat& w)
{
    double err = 0;
    for (Eigen::Index r = 0; r < w.rows(); ++r)
        for (Eigen::Index g = 0; g < w.cols(); g += 128) {
            const auto seg = w.row(r).segment(g, 128);
            const float lo = std::min(seg.minCoeff(), 0.0f), hi = std::max(seg.maxCoeff(), 0.0f);
            const float scale = hi > lo ? (hi - lo) / 15.0f : 1.0f;
            const float zero = std::nearbyint(-lo / scale);
            for (Eigen::Index j = 0; j < 128; ++j) {
                const float q = std::clamp(std::nearbyint(seg[j] / scale) + zero, 0.0f, 15.0f);
                err += std::pow(double((q - zero) * scale - seg[j]), 2);
            }
        }
    return err / double(w.size());
}

} // namespace

class TestLayerCompare : public QObject {
    Q_OBJECT
private slots:
    void oneLayerUnderEveryMethod()
    {
        try {
            const auto model = model::openModel("demo");
            const auto results = quickRun(model);
            QCOMPARE(int(results->methods.size()), 3);
            for (const auto& m : results->methods)
                QVERIFY2(m.ok(), m.error.c_str());
            QCOMPARE(results->kept->skipped(), 0);

            LayerCompareView view;
            view.resize(1100, 760);
            view.show();
            QSignalSpy shown(&view, &LayerCompareView::comparisonShown);
            view.setResults(results);
            view.selectLayer(1, kDown);
            QVERIFY(shown.wait(kWaitMs));
            const ui::LayerComparison* c = view.comparison();
            QVERIFY(c);
            QCOMPARE(c->name, std::string("model.layers.1.mlp.down_proj"));
            QCOMPARE(view.paneCount(), 3);
            const double size = double(c->rows) * double(c->cols);
            QCOMPARE(size, 384.0 * 1024.0);

            // The kept reference is the checkpoint's weight.
            const Tensor t = model.checkpoint->readF32("model.layers.1.mlp.down_proj.weight");
            const runtime::Mat w = Eigen::Map<const runtime::Mat>(t.data.data(), c->rows, c->cols);
            QCOMPARE(double((*results->kept->reference(1, kDown) - w).cwiseAbs().maxCoeff()), 0.0);
            QCOMPARE(sum(c->originalCounts), size);

            for (int i = 0; i < 3; ++i) {
                const auto& pane = c->panes[std::size_t(i)];
                QCOMPARE(pane.method, results->methods[std::size_t(i)].method);
                QCOMPARE(sum(pane.weightCounts), size);
                QCOMPARE(sum(pane.errorCounts), size);
                // f16 storage of the error against the method's own MSE: within 1%.
                double mse = 0;
                for (const auto& l : results->methods[std::size_t(i)].run.layers)
                    if (l.block == 1 && int(l.role) == kDown)
                        mse = l.weightMse;
                QVERIFY2(std::fabs(pane.errorRms * pane.errorRms - mse) <= 0.01 * mse,
                         qPrintable(QStringLiteral("%1: rms^2 %2 vs mse %3").arg(QString::fromStdString(pane.method))
                                        .arg(pane.errorRms * pane.errorRms).arg(mse)));
                // The plots hold those counts (gaps where a bin is empty on the log axis).
                const auto g = view.weightPlot(i)->graph(1)->data();
                QCOMPARE(g->size(), ui::kLayerCompareBins);
                double plotted = 0;
                for (const auto& p : *g)
                    plotted += std::isnan(p.value) ? 0 : p.value;
                QCOMPARE(plotted, size);
                QCOMPARE(view.errorPlot(i)->graph(0)->data()->size(), ui::kLayerCompareBins);
                QVERIFY(view.scalePlot(i)->graphCount() == 1);
            }
            // RTN against an independent min-max grid.
            const double ref = rtnMse(w), rtn = c->panes[0].errorRms * c->panes[0].errorRms;
            QVERIFY2(std::fabs(rtn - ref) <= 0.01 * ref, qPrintable(QStringLiteral("rtn %1 vs %2").arg(rtn).arg(ref)));
            // Scales: rtn g128 -> 384 x 8 groups pooled by 2; absmax int8 -> one per row = max|W_r| / 127.
            QCOMPARE(int(c->panes[0].scaleValues.size()), 384 * 8 / 2);
            QCOMPARE(int(c->panes[1].scaleValues.size()), 384);
            for (int r : {0, 100, 383})
                QVERIFY(std::fabs(c->panes[1].scaleValues[std::size_t(r)] - double(w.row(r).cwiseAbs().maxCoeff()) / 127.0) <
                        1e-6 * c->panes[1].scaleValues[std::size_t(r)]);
            QCOMPARE(int(c->panes[2].scaleValues.size()), 384 * 1024 / 64 / 3); // nf4 blocks pooled by 3

            // Linked axes: x and y of one pane carry to the others.
            view.weightPlot(0)->xAxis->setRange(-0.05, 0.05);
            QCOMPARE(view.weightPlot(2)->xAxis->range().lower, -0.05);
            view.errorPlot(2)->yAxis->setRange(1, 1000);
            QCOMPARE(view.errorPlot(0)->yAxis->range().upper, 1000.0);

            QCOMPARE(view.modelErrorPlot()->graphCount(), 3);
            QCOMPARE(view.modelErrorPlot()->graph(0)->data()->size(), 42);

            const QString shot = qEnvironmentVariable("QS_TEST_SCREENSHOT_DIR");
            if (!shot.isEmpty()) {
                QTest::qWait(200); // new panes are shown by a queued call
                QVERIFY(view.grab().save(shot + QStringLiteral("/layer-compare-test.png")));
            }

            // A layer that was not kept: a message, no panes.
            view.selectLayer(40, 0);
            QTRY_VERIFY_WITH_TIMEOUT(!view.isBusy(), kWaitMs);
            QCOMPARE(view.paneCount(), 0);
            QVERIFY(view.findChild<QLabel*>(QStringLiteral("layerCompareTitle"))->text().contains(QStringLiteral("kept no weights")));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void budgetKeepsNothing()
    {
        ui::KeptLayers kept(1024); // bytes: not even one linear
        runtime::Mat w = runtime::Mat::Random(64, 64);
        quant::LayerReport r;
        r.block = 0;
        r.role = runtime::LinearRole::Q;
        compute::DenseHalf h;
        h.n = h.k = 64;
        h.bits.assign(64 * 64, 0);
        kept.keep("rtn", r, w, compute::WeightMatrix(h), w);
        QCOMPARE(kept.skipped(), 1);
        QVERIFY(!kept.snapshot("rtn", 0, 0));
        QVERIFY(!kept.reference(0, 0));
    }
};

QTEST_MAIN(TestLayerCompare)
#include "test_layer_compare.moc"
