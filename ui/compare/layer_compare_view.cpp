#include "ui/compare/layer_compare_view.hpp"

#include "core/quant/layer_metrics.hpp"
#include "ui/compare/layer_compare_data.hpp"
#include "ui/compare/layer_compare_plots.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/plots/plot_style.hpp"

#include <QGridLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

constexpr int kRoles = 7;

QCustomPlot* makePane(const QString& objectName, QWidget* parent)
{
    auto* plot = new QCustomPlot(parent);
    plot->setObjectName(objectName);
    stylePlot(plot);
    addPlotExportMenu(plot);
    plot->setMinimumSize(120, 110);
    plot->xAxis->ticker()->setTickCount(3); // six panes side by side: few, readable ticks
    return plot;
}

} // namespace

LayerCompareView::LayerCompareView(QWidget* parent)
    : QWidget(parent), runner_(new JobRunner(QStringLiteral("LayerCompare"), this))
{
    setObjectName(QStringLiteral("layerCompareView"));
    title_ = new QLabel(this);
    title_->setObjectName(QStringLiteral("layerCompareTitle"));
    title_->setWordWrap(true);
    panesHost_ = new QWidget(this);
    panes_ = new QGridLayout(panesHost_);
    panes_->setContentsMargins(0, 0, 0, 0);
    panes_->setSpacing(2);

    modelPlot_ = new QCustomPlot(this);
    modelPlot_->setObjectName(QStringLiteral("layerCompareModelPlot"));
    stylePlot(modelPlot_);
    setPlotTitle(modelPlot_, tr("Output error of every linear, one line per method (click: select)"));
    addPlotExportMenu(modelPlot_);
    modelPlot_->axisRect()->setRangeZoom(Qt::Horizontal);
    modelPlot_->axisRect()->setRangeDrag(Qt::Horizontal);
    // The lines fill the axis rect: the legend goes in a row of its own underneath.
    modelPlot_->axisRect()->insetLayout()->take(modelPlot_->legend);
    modelPlot_->plotLayout()->addElement(modelPlot_->plotLayout()->rowCount(), 0, modelPlot_->legend);
    modelPlot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
    modelPlot_->legend->setBorderPen(Qt::NoPen);
    modelPlot_->plotLayout()->setRowStretchFactor(modelPlot_->plotLayout()->rowCount() - 1, 0.001);
    connect(modelPlot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (e->button() != Qt::LeftButton || !results_)
            return;
        const int x = int(std::lround(modelPlot_->xAxis->pixelToCoord(e->position().x())));
        if (x >= 0)
            emit layerClicked(x / kRoles, x % kRoles);
    });

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(title_);
    topLayout->addWidget(panesHost_, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(modelPlot_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        onCompared(std::any_cast<std::shared_ptr<const LayerComparison>>(r));
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        rebuildPanes(0);
        title_->setText(message);
    });
    clear();
}

LayerCompareView::~LayerCompareView() = default;

bool LayerCompareView::isBusy() const { return runner_->isRunning(); }

void LayerCompareView::clear() { setResults(nullptr); }

void LayerCompareView::setResults(std::shared_ptr<const CompareResults> results)
{
    runner_->cancel();
    results_ = std::move(results);
    comparison_.reset();
    rebuildPanes(0);
    drawModelErrors(modelPlot_, results_.get(), block_, role_);
    selectLayer(block_, role_);
}

void LayerCompareView::selectLayer(int block, int role)
{
    block_ = block;
    role_ = role;
    drawModelErrors(modelPlot_, results_.get(), block_, role_);
    if (!results_) {
        title_->setText(tr("No comparison yet: run one on the Compare tab, then select a linear."));
        return;
    }
    if (block < 0) {
        title_->setText(tr("Select a linear in the tree, the metrics table or the plot below."));
        return;
    }
    title_->setText(tr("%1: comparing\u2026").arg(QString::fromStdString(quant::linearName(block, runtime::LinearRole(role)))));
    runner_->start(tr("layer compare"), [results = results_, block, role](JobContext& job) -> JobResult {
        return compareLayer(*results, block, role, job.progress());
    });
}

void LayerCompareView::rebuildPanes(int count)
{
    if (count == paneCount())
        return;
    for (QWidget* w : panesHost_->findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
        delete w; // never called from a pane's own signal
    headers_.clear();
    weightPlots_.clear();
    errorPlots_.clear();
    scalePlots_.clear();
    for (int i = 0; i < count; ++i) {
        auto* header = new QLabel(panesHost_);
        header->setObjectName(QStringLiteral("layerComparePaneHeader%1").arg(i));
        header->setAlignment(Qt::AlignCenter);
        header->setWordWrap(true);
        headers_ << header;
        weightPlots_ << makePane(QStringLiteral("layerCompareWeights%1").arg(i), panesHost_);
        errorPlots_ << makePane(QStringLiteral("layerCompareError%1").arg(i), panesHost_);
        scalePlots_ << makePane(QStringLiteral("layerCompareScales%1").arg(i), panesHost_);
        panes_->addWidget(header, 0, i);
        panes_->addWidget(weightPlots_.back(), 1, i);
        panes_->addWidget(errorPlots_.back(), 2, i);
        panes_->addWidget(scalePlots_.back(), 3, i);
    }
    for (int r = 1; r <= 3; ++r)
        panes_->setRowStretch(r, 1);
    linkAxes(weightPlots_);
    linkAxes(errorPlots_);
    linkAxes(scalePlots_);
}

void LayerCompareView::onCompared(std::shared_ptr<const LayerComparison> c)
{
    comparison_ = std::move(c);
    const auto& cmp = *comparison_;
    rebuildPanes(int(cmp.panes.size()));
    QString notKept;
    for (const auto& m : cmp.notKept)
        notKept += (notKept.isEmpty() ? QString() : QStringLiteral(", ")) + QString::fromStdString(m);
    title_->setText(tr("<b>%1</b> [%2 \u00d7 %3] \u00b7 rows: W' (W in grey), error W' \u2212 W, stored scales; "
                       "axes linked across methods (drag or wheel to zoom)%4")
                        .arg(QString::fromStdString(cmp.name))
                        .arg(cmp.rows)
                        .arg(cmp.cols)
                        .arg(notKept.isEmpty() ? QString() : tr(" \u00b7 not kept: %1").arg(notKept)));
    for (int i = 0; i < int(cmp.panes.size()); ++i) {
        const auto& p = cmp.panes[std::size_t(i)];
        const QColor& colour = methodColour(i);
        headers_[i]->setText(tr("<b style='color:%1'>%2</b> %3<br>SQNR %4 dB \u00b7 out err %5<br>rms err %6")
                                 .arg(colour.name(), QString::fromStdString(p.method), QString::fromStdString(p.format))
                                 .arg(p.sqnrDb, 0, 'f', 1)
                                 .arg(p.outputRelError, 0, 'g', 3)
                                 .arg(p.errorRms, 0, 'g', 3));
        headers_[i]->setToolTip(QString::fromStdString(p.scaleKind));
        drawWeightPane(weightPlots_[i], cmp, p, colour);
        drawErrorPane(errorPlots_[i], cmp, p, colour);
        drawScalePane(scalePlots_[i], p, colour);
    }
    // One shared y range per row (equal heights mean equal counts), from every pane's data: the
    // links have already copied the last pane's own range to the others.
    double maxW = 1, maxE = 1, sLo = INFINITY, sHi = 0;
    for (double v : cmp.originalCounts)
        maxW = std::max(maxW, v);
    for (const auto& p : cmp.panes) {
        for (double v : p.weightCounts)
            maxW = std::max(maxW, v);
        for (double v : p.errorCounts)
            maxE = std::max(maxE, v);
        for (double v : p.scaleValues)
            if (v > 0) {
                sLo = std::min(sLo, v);
                sHi = std::max(sHi, v);
            }
    }
    if (!weightPlots_.isEmpty()) {
        weightPlots_.front()->yAxis->setRange(0.5, 2 * maxW); // the links carry it to the others
        errorPlots_.front()->yAxis->setRange(0.5, 2 * maxE);
        if (sHi > 0)
            scalePlots_.front()->yAxis->setRange(sLo / 1.5, sHi * 1.5);
    }
    emit comparisonShown(cmp.block, cmp.role);
}

} // namespace qs::ui
