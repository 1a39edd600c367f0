// The metrics table of all linears on the demo model: 6 blocks x 7 linears, stats scanned in
// the background, passes QAbstractItemModelTester through setLinears/setStats/setMethodErrors,
// sorts numerically through the proxy, filters, exports CSV, and the strip colours every cell.
#include "demo_window_support.hpp"
#include "core/tensor/stats.hpp"
#include "ui/metrics/linear_metrics_model.hpp"
#include "ui/metrics/metrics_panel.hpp"
#include "ui/metrics/model_error_strip.hpp"
#include "ui/windows/analysis_tabs.hpp"

#include <QAbstractItemModelTester>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

using qs::ui::LinearMetricsModel;
using qs::ui::MainWindow;
using qs::ui::MetricsPanel;

class TestMetricsTable : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qs::test::isolateSettings("QuantScopeMetricsTest"); }

    void listsScansSortsAndFilters()
    {
        MainWindow w;
        w.show();
        MetricsPanel* panel = w.analysisTabs()->metrics();
        LinearMetricsModel* model = panel->metricsModel();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(panel->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy scanned(panel, &MetricsPanel::statsScanned);
        QVERIFY(qs::test::openDemo(w));
        QCOMPARE(model->rowCount(), 42);
        QCOMPARE(model->columnCount(), int(LinearMetricsModel::FixedColumns));
        QCOMPARE(model->index(0, 0).data().toString(), QStringLiteral("layers.0.self_attn.q_proj"));
        QCOMPARE(model->index(41, 0).data(LinearMetricsModel::TensorNameRole).toString(),
                 QStringLiteral("model.layers.5.mlp.down_proj.weight"));
        QCOMPARE(model->index(4, LinearMetricsModel::ShapeColumn).data().toString(), QStringLiteral("[1024, 384]"));
        QVERIFY(scanned.wait(qs::test::kWaitMs));

        // Stats equal computeStats on the tensor.
        const auto t = w.currentModel()->checkpoint->readF32("model.layers.3.mlp.down_proj.weight");
        const auto s = qs::computeStats(t.data, 1);
        const int row = model->rowOfTensor(QStringLiteral("model.layers.3.mlp.down_proj.weight"));
        QCOMPARE(row, 3 * 7 + 6);
        QCOMPARE(model->index(row, LinearMetricsModel::KurtosisColumn).data(LinearMetricsModel::SortRole).toDouble(),
                 s.kurtosis);
        QCOMPARE(model->index(row, LinearMetricsModel::OutliersColumn).data(LinearMetricsModel::SortRole).toULongLong(),
                 qulonglong(s.beyond6Sigma));

        // Sorting by kurtosis (descending) through the proxy.
        QSortFilterProxyModel* proxy = panel->proxy();
        panel->view()->sortByColumn(LinearMetricsModel::KurtosisColumn, Qt::DescendingOrder);
        double previous = INFINITY;
        for (int r = 0; r < proxy->rowCount(); ++r) {
            const double k = proxy->index(r, LinearMetricsModel::KurtosisColumn).data(LinearMetricsModel::SortRole).toDouble();
            QVERIFY(k <= previous);
            previous = k;
        }
        // Params sort numerically, not as text ("1.2 M" vs "393 K").
        panel->view()->sortByColumn(LinearMetricsModel::ParamsColumn, Qt::AscendingOrder);
        QCOMPARE(proxy->index(0, LinearMetricsModel::ShapeColumn).data().toString(), QStringLiteral("[128, 384]"));
        QCOMPARE(proxy->index(41, LinearMetricsModel::ParamsColumn).data(LinearMetricsModel::SortRole).toLongLong(),
                 qlonglong(1024 * 384));

        // Filtering.
        panel->findChild<QLineEdit*>(QStringLiteral("metricsFilter"))->setText(QStringLiteral("down_proj"));
        QCOMPARE(proxy->rowCount(), 6);
        panel->findChild<QLineEdit*>(QStringLiteral("metricsFilter"))->clear();
        QCOMPARE(proxy->rowCount(), 42);

        // Method columns come and go as whole columns; the strip colours by the newest.
        std::vector<std::vector<double>> errors(2, std::vector<double>(42));
        for (int r = 0; r < 42; ++r) {
            errors[0][std::size_t(r)] = 0.01 * (r + 1);
            errors[1][std::size_t(r)] = 0.02 * (42 - r);
        }
        model->setMethodErrors({QStringLiteral("rtn"), QStringLiteral("gptq")}, errors);
        QCOMPARE(model->columnCount(), int(LinearMetricsModel::FixedColumns) + 2);
        QCOMPARE(model->headerData(LinearMetricsModel::FixedColumns + 1, Qt::Horizontal).toString(),
                 QStringLiteral("gptq error"));
        panel->view()->sortByColumn(LinearMetricsModel::FixedColumns, Qt::DescendingOrder);
        QCOMPARE(proxy->index(0, 0).data().toString(), QStringLiteral("layers.5.mlp.down_proj"));
        QCOMPARE(panel->strip()->method(), QStringLiteral("gptq"));
        QCOMPARE(panel->strip()->cellCount(), 42);
        QVERIFY(panel->strip()->cellColor(0) != panel->strip()->cellColor(41)); // high vs low error
        model->setMethodErrors({QStringLiteral("rtn")}, {errors[0]});
        QCOMPARE(model->columnCount(), int(LinearMetricsModel::FixedColumns) + 1);

        QTemporaryDir dir;
        const QString csv = dir.filePath(QStringLiteral("metrics.csv"));
        QVERIFY(panel->exportCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 43);
        QVERIFY(lines[1].startsWith(QStringLiteral("model.layers."))); // full names in the file
        QVERIFY(lines[0].startsWith(QStringLiteral("Linear,Shape,Params,Absmax,Kurtosis,Outliers,rtn error")));
    }

    void clickingARowSelectsTheTensor()
    {
        MainWindow w;
        w.show();
        QVERIFY(qs::test::openDemo(w));
        MetricsPanel* panel = w.analysisTabs()->metrics();
        const QModelIndex idx = panel->proxy()->index(9, 0);
        panel->view()->setCurrentIndex(idx);
        QCOMPARE(qs::test::labelText(w, "tensorName"), idx.data(LinearMetricsModel::TensorNameRole).toString());
    }
};

QTEST_MAIN(TestMetricsTable)
#include "test_metrics_table.moc"
