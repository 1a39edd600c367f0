#include "ui/compare/compare_view.hpp"

#include "core/quant/layer_metrics.hpp"
#include "ui/compare/compare_table_model.hpp"
#include "ui/export/csv_export.hpp"
#include "ui/export/export_dialog.hpp"
#include "ui/plots/plot_style.hpp"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

namespace qs::ui {

namespace {

constexpr int kRoles = 7;

const QList<QColor>& methodColors()
{
    static const QList<QColor> colors{QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                      QColor(255, 127, 14), QColor(148, 103, 189), QColor(140, 86, 75)};
    return colors;
}

QTableView* makeTable(const QString& objectName, QAbstractItemModel* model, QWidget* parent)
{
    auto* view = new QTableView(parent);
    view->setObjectName(objectName);
    view->setModel(model);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->setAlternatingRowColors(true);
    view->horizontalHeader()->setStretchLastSection(true);
    view->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(view, &QWidget::customContextMenuRequested, view, [view, objectName](const QPoint& pos) {
        QMenu menu(view);
        menu.addAction(QObject::tr("Export Table as CSV\u2026"), view,
                       [view, objectName] { exportCsvWithDialog(*view->model(), view, objectName + QStringLiteral(".csv")); });
        menu.exec(view->viewport()->mapToGlobal(pos));
    });
    return view;
}

} // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent), table_(new CompareTableModel(this)), layerReport_(new LayerReportModel(this))
{
    setObjectName(QStringLiteral("compareView"));
    summary_ = new QLabel(tr("No comparison yet: pick methods and press Run."), this);
    summary_->setObjectName(QStringLiteral("compareSummary"));
    summary_->setWordWrap(true);

    auto* sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(table_);
    sorted->setSortRole(CompareTableModel::SortRole);
    tableView_ = makeTable(QStringLiteral("compareTable"), sorted, this);
    tableView_->setSortingEnabled(true);
    sorted->sort(-1); // the run's order until the user clicks a header
    tableView_->horizontalHeader()->setSortIndicatorShown(false);
    connect(tableView_->horizontalHeader(), &QHeaderView::sectionClicked, this,
            [this] { tableView_->horizontalHeader()->setSortIndicatorShown(true); });

    plot_ = new QCustomPlot(this);
    plot_->setObjectName(QStringLiteral("layerErrorPlot"));
    stylePlot(plot_);
    setPlotTitle(plot_, tr("Output error per linear across the model"));
    addPlotExportMenu(plot_);
    plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    plot_->yAxis->setNumberFormat(QStringLiteral("eb"));
    plot_->yAxis->setNumberPrecision(0);
    plot_->yAxis->setLabel(tr("relative output error"));
    plot_->xAxis->setLabel(tr("linear (block: q k v o gate up down)"));
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->axisRect()->setRangeZoom(Qt::Horizontal);
    plot_->axisRect()->setRangeDrag(Qt::Horizontal);
    // The lines fill the whole axis rect: the legend goes in a row of its own underneath.
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->plotLayout()->addElement(plot_->plotLayout()->rowCount(), 0, plot_->legend);
    plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot_->legend->setBorderPen(Qt::NoPen);
    plot_->plotLayout()->setRowStretchFactor(plot_->plotLayout()->rowCount() - 1, 0.001);
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (e->button() != Qt::LeftButton || !table_->results())
            return;
        const int x = int(std::lround(plot_->xAxis->pixelToCoord(e->position().x())));
        if (x >= 0)
            emit layerClicked(x / kRoles, x % kRoles);
    });

    layerTitle_ = new QLabel(tr("Selected layer: none (select a linear in the tree, the table or the plot)"), this);
    layerTitle_->setObjectName(QStringLiteral("layerReportTitle"));
    reportView_ = makeTable(QStringLiteral("layerReportTable"), layerReport_, this);

    auto* exportCsv = new QPushButton(tr("Export table CSV\u2026"), this);
    exportCsv->setObjectName(QStringLiteral("compareExportCsv"));
    connect(exportCsv, &QPushButton::clicked, this,
            [this] { exportCsvWithDialog(*tableView_->model(), this, QStringLiteral("compare.csv")); });
    auto* exportPlot = new QPushButton(tr("Export plot\u2026"), this);
    exportPlot->setObjectName(QStringLiteral("compareExportPlot"));
    connect(exportPlot, &QPushButton::clicked, this, [this] {
        const QString dir = QSettings().value(QStringLiteral("lastExportDir")).toString();
        const QString file = QFileDialog::getSaveFileName(this, tr("Export Plot"), dir + QStringLiteral("/layer-errors.png"),
                                                          tr("PNG image (*.png);;PDF document (*.pdf)"));
        if (file.isEmpty())
            return;
        QSettings().setValue(QStringLiteral("lastExportDir"), QFileInfo(file).absolutePath());
        savePlot(plot_, file);
    });
    exportModelButton_ = new QPushButton(tr("Export model\u2026"), this);
    exportModelButton_->setObjectName(QStringLiteral("compareExportModel"));
    exportModelButton_->setToolTip(tr("Write the model, quantized with one of the compared methods or not, as GGUF "
                                      "or an HF quantized folder"));
    exportModelButton_->setEnabled(false);
    connect(exportModelButton_, &QPushButton::clicked, this, [this] { openExportDialog(); });
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(summary_, 1);
    buttons->addWidget(exportModelButton_);
    buttons->addWidget(exportCsv);
    buttons->addWidget(exportPlot);

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(buttons);
    topLayout->addWidget(tableView_, 1);
    auto* bottom = new QWidget(this);
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(layerTitle_);
    bottomLayout->addWidget(reportView_, 1);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(plot_);
    split->addWidget(bottom);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);
    clear();
}

void CompareView::setExportSource(std::shared_ptr<const model::Model> model, CompareSettings settings)
{
    exportModel_ = std::move(model);
    exportSettings_ = std::move(settings);
    exportModelButton_->setEnabled(exportModel_ && exportModel_->spec.supported);
}

ExportDialog* CompareView::openExportDialog()
{
    if (!exportModel_)
        return nullptr;
    std::vector<quant::QuantConfig> methods;
    if (const auto& r = table_->results())
        for (const auto& m : r->methods)
            if (m.ok())
                methods.push_back(m.run.config);
    if (methods.empty())
        for (const auto& name : exportSettings_.methods)
            methods.push_back(exportSettings_.configFor(name));
    auto* dialog = new ExportDialog(exportModel_, std::move(methods), exportSettings_.calibrationPreset,
                                    exportSettings_.preferGpu, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}

void CompareView::clear()
{
    table_->setResults(nullptr);
    layerReport_->setLayer(nullptr, -1, 0);
    summary_->setText(tr("No comparison yet: pick methods and press Run."));
    drawLayerErrors();
}

void CompareView::setResults(std::shared_ptr<const CompareResults> results)
{
    table_->setResults(results);
    if (results)
        summary_->setText(tr("Original perplexity %1 on %2 windows of %3 tokens \u00b7 calibration %4 \u00d7 %5 tokens "
                             "\u00b7 %6")
                              .arg(results->originalPerplexity, 0, 'f', 4)
                              .arg(results->evalWindows)
                              .arg(results->evalContext)
                              .arg(results->calibrationSamples)
                              .arg(results->calibrationLength)
                              .arg(QString::fromStdString(results->backendName)));
    tableView_->resizeColumnsToContents();
    // The config is the Method cell's tooltip (and in the CSV): the numbers need the width.
    tableView_->setColumnHidden(CompareTableModel::ConfigColumn, true);
    drawLayerErrors();
    selectLayer(selectedBlock_, selectedRole_);
}

void CompareView::selectLayer(int block, int role)
{
    selectedBlock_ = block;
    selectedRole_ = role;
    layerReport_->setLayer(table_->results(), block, role);
    layerTitle_->setText(block < 0 ? tr("Selected layer: none (select a linear in the tree, the table or the plot)")
                                   : tr("Selected layer: %1")
                                         .arg(QString::fromStdString(quant::linearName(block, runtime::LinearRole(role)))));
    reportView_->resizeColumnsToContents();
    markSelectedLayer();
}

void CompareView::drawLayerErrors()
{
    plot_->clearGraphs();
    const auto& results = table_->results();
    int maxX = 0;
    double lo = INFINITY, hi = 0;
    if (results) {
        int colour = 0;
        for (const auto& m : results->methods) {
            if (!m.ok())
                continue;
            QCPGraph* g = plot_->addGraph();
            g->setName(QString::fromStdString(m.method));
            g->setPen(QPen(methodColors()[colour++ % methodColors().size()], 1.5));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
            QVector<double> x, y;
            for (const auto& l : m.run.layers) {
                x.push_back(double(l.block * kRoles + int(l.role)));
                y.push_back(l.outputRelError > 0 ? l.outputRelError : l.weightMse);
            }
            g->setData(x, y); // sorts by x: model order, whatever order the method reported in
            for (double v : y)
                if (v > 0) {
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
            if (!x.isEmpty())
                maxX = std::max(maxX, int(*std::max_element(x.begin(), x.end())));
        }
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int b = 0; b <= maxX / kRoles; ++b)
        ticker->addTick(b * kRoles, QStringLiteral("B%1").arg(b));
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.5, std::max(maxX, kRoles - 1) + 0.5);
    plot_->yAxis->setRange(std::isfinite(lo) ? lo / 1.5 : 1e-4, hi > 0 ? hi * 1.5 : 1.0);
    plot_->legend->setVisible(plot_->graphCount() > 0);
    markSelectedLayer();
}

void CompareView::markSelectedLayer()
{
    for (int i = plot_->itemCount() - 1; i >= 0; --i)
        if (plot_->item(i)->property("selectedLayer").toBool())
            plot_->removeItem(i);
    if (selectedBlock_ >= 0) {
        auto* line = new QCPItemStraightLine(plot_);
        line->setProperty("selectedLayer", true);
        line->setPen(QPen(QColor(0, 0, 0, 110), 1.0, Qt::DashLine));
        const double x = selectedBlock_ * kRoles + selectedRole_;
        line->point1->setCoords(x, 1);
        line->point2->setCoords(x, 10);
    }
    plot_->replot();
}

} // namespace qs::ui
