#include "ui/inspector/heatmap_panel.hpp"

#include "ui/inspector/raw_block_model.hpp"
#include "ui/inspector/tensor_analysis.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/plots/plot_style.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace qs::ui {

HeatmapPanel::HeatmapPanel(QWidget* parent)
    : QWidget(parent), runner_(new JobRunner(QStringLiteral("Heatmap"), this)), raw_(new RawBlockModel(this))
{
    setObjectName(QStringLiteral("heatmapPanel"));
    mode_ = new QComboBox(this);
    mode_->setObjectName(QStringLiteral("heatmapMode"));
    plot_ = new QCustomPlot(this);
    plot_->setObjectName(QStringLiteral("heatmapPlot"));
    stylePlot(plot_);
    setPlotTitle(plot_, tr("|W| heatmap"));
    addPlotExportMenu(plot_);
    auto* map = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    map->setObjectName(QStringLiteral("weightHeatmap"));
    map->setInterpolate(false);
    map->setGradient(QCPColorGradient(QCPColorGradient::gpThermal));
    auto* scale = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(plot_->plotLayout()->rowCount() - 1, 1, scale);
    scale->setBarWidth(10);
    map->setColorScale(scale);
    plot_->yAxis->setRangeReversed(true); // row 0 at the top, as a matrix is written

    rawTitle_ = new QLabel(this);
    rawTitle_->setObjectName(QStringLiteral("rawBlockTitle"));
    rawView_ = new QTableView(this);
    rawView_->setObjectName(QStringLiteral("rawBlockTable"));
    rawView_->setModel(raw_);
    QFont small = rawView_->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    rawView_->setFont(small);
    rawView_->horizontalHeader()->setFont(small);
    rawView_->verticalHeader()->setFont(small);
    rawView_->verticalHeader()->setDefaultSectionSize(QFontMetrics(small).height() + 3);
    rawView_->verticalHeader()->setMinimumWidth(QFontMetrics(small).horizontalAdvance(QStringLiteral("000000")));
    rawView_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    rawView_->setFixedHeight((QFontMetrics(small).height() + 3) * (2 * RawBlockModel::kRadius + 2) + 6);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Heatmap:"), this));
    top->addWidget(mode_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);
    layout->addWidget(rawTitle_);
    layout->addWidget(rawView_);

    connect(mode_, &QComboBox::currentIndexChanged, this, &HeatmapPanel::onModeChanged);
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (e->button() == Qt::LeftButton && plot_->axisRect()->rect().contains(e->position().toPoint()))
            showCell(int(std::lround(plot_->yAxis->pixelToCoord(e->position().y()))),
                     int(std::lround(plot_->xAxis->pixelToCoord(e->position().x()))));
    });
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        heatmap_ = std::any_cast<std::shared_ptr<MethodHeatmap>>(r);
        const bool scales = heatmap_->kind == HeatmapKind::Scales;
        setPlotTitle(plot_, (scales ? tr("%1 scales per group (%2)") : tr("|W' \u2212 W| under %1 (%2)"))
                                .arg(QString::fromStdString(heatmap_->method), QString::fromStdString(heatmap_->snapshot->format)));
        drawMap(*heatmap_->data, scales ? tr("scale (max per cell)") : tr("|W' \u2212 W| (max per cell)"), heatmap_->poolRows,
                heatmap_->poolCols, scales ? tr("group of input channels") : tr("input channel"));
        const bool fresh = raw_->centerRow() < 0 && analysis_;
        const int row = fresh ? analysis_->maxRow : std::max(0, raw_->centerRow());
        const int col = fresh ? analysis_->maxCol : std::max(0, raw_->centerCol());
        showCell(row, scales ? col / std::max(1, heatmap_->snapshot->scales.groupCols) : col);
        emit heatmapShown(int(heatmap_->kind));
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& m) {
        heatmap_.reset(); // the tensor's own analysis stays: |W| is still one choice away
        raw_->clear();
        rawTitle_->setText(m);
        qobject_cast<QCPColorMap*>(plot_->plottable(0))->data()->clear();
        plot_->replot();
    });
    fillModes();
}

HeatmapPanel::~HeatmapPanel() = default;

bool HeatmapPanel::isBusy() const { return runner_->isRunning(); }

void HeatmapPanel::clear(const QString& message)
{
    runner_->cancel();
    analysis_.reset();
    heatmap_.reset();
    raw_->clear();
    rawTitle_->setText(message);
    auto* map = qobject_cast<QCPColorMap*>(plot_->plottable(0));
    map->data()->clear();
    plot_->replot();
}

void HeatmapPanel::setAnalysis(std::shared_ptr<const TensorAnalysis> analysis)
{
    analysis_ = std::move(analysis);
    raw_->clear();
    fillModes(); // draws the chosen heatmap for this tensor
    showCell(analysis_->maxRow, analysis_->maxCol); // |W| mode: the hottest cell first
}

void HeatmapPanel::setResults(std::shared_ptr<const CompareResults> results)
{
    results_ = std::move(results);
    fillModes();
}

void HeatmapPanel::setLinear(int block, int role)
{
    block_ = block;
    role_ = role;
    fillModes();
}

void HeatmapPanel::fillModes()
{
    const QVariant keep = mode_->currentData();
    {
        const QSignalBlocker blocker(mode_);
        mode_->clear();
        mode_->addItem(tr("|W|"), QVariantList{int(HeatmapKind::Weight), QString()});
        if (results_ && results_->kept && block_ >= 0)
            for (const auto& m : results_->methods)
                if (m.ok() && results_->kept->snapshot(m.method, block_, role_)) {
                    const QString name = QString::fromStdString(m.method);
                    mode_->addItem(tr("|W' \u2212 W| under %1").arg(name), QVariantList{int(HeatmapKind::Error), name});
                    mode_->addItem(tr("scales per group, %1").arg(name), QVariantList{int(HeatmapKind::Scales), name});
                }
        const int i = mode_->findData(keep);
        mode_->setCurrentIndex(std::max(i, 0)); // the same choice for the next linear, where offered
    }
    onModeChanged();
}

bool HeatmapPanel::setMode(HeatmapKind kind, const QString& method)
{
    const int i = mode_->findData(QVariantList{int(kind), kind == HeatmapKind::Weight ? QString() : method});
    if (i < 0)
        return false;
    if (i == mode_->currentIndex())
        onModeChanged();
    else
        mode_->setCurrentIndex(i);
    return true;
}

void HeatmapPanel::onModeChanged()
{
    const QVariantList d = mode_->currentData().toList();
    kind_ = HeatmapKind(d.value(0).toInt());
    heatmap_.reset();
    if (!analysis_ || !analysis_->heatmap)
        return;
    if (kind_ == HeatmapKind::Weight) {
        runner_->cancel();
        setPlotTitle(plot_, tr("|W| heatmap (click a cell for its raw values)"));
        drawMap(*analysis_->heatmap, tr("|w| (max per cell)"), analysis_->poolRows, analysis_->poolCols, tr("input channel"));
        if (raw_->centerRow() >= 0)
            showCell(raw_->centerRow(), raw_->centerCol());
        emit heatmapShown(int(kind_));
        return;
    }
    rawTitle_->setText(tr("computing the heatmap\u2026"));
    runner_->start(tr("heatmap"), [results = results_, method = d.value(1).toString().toStdString(), block = block_,
                                   role = role_, kind = kind_](JobContext& job) -> JobResult {
        return buildMethodHeatmap(*results->kept, method, block, role, kind, job.progress());
    });
}

void HeatmapPanel::drawMap(const QCPColorMapData& data, const QString& valueLabel, int poolRows, int poolCols,
                           const QString& xLabel)
{
    auto* map = qobject_cast<QCPColorMap*>(plot_->plottable(0));
    *map->data() = data; // a copy of at most 512 x 512 cells the worker built
    map->colorScale()->axis()->setLabel(valueLabel);
    map->rescaleDataRange(true);
    plot_->xAxis->setLabel(tr("%1 (pooled %2)").arg(xLabel).arg(poolCols));
    plot_->yAxis->setLabel(tr("output channel (pooled %1)").arg(poolRows));
    plot_->rescaleAxes();
    plot_->replot();
}

void HeatmapPanel::showCell(int row, int col)
{
    if (kind_ == HeatmapKind::Weight) {
        if (!analysis_ || !analysis_->values || analysis_->shape.size() != 2)
            return;
        const int rows = int(analysis_->shape[0]), cols = int(analysis_->shape[1]);
        raw_->setBlock([v = analysis_->values, cols](int r, int c) { return double((*v)[std::size_t(r) * std::size_t(cols) + std::size_t(c)]); },
                       rows, cols, row, col, tr("W"));
    } else if (heatmap_) {
        raw_->setBlock([h = heatmap_](int r, int c) { return h->valueAt(r, c); }, heatmap_->rows, heatmap_->cols, row, col,
                       heatmap_->kind == HeatmapKind::Scales ? tr("scale") : tr("W' \u2212 W"));
    } else {
        return;
    }
    rawTitle_->setText(tr("%1 around row %2, column %3 (bold: the clicked cell)")
                           .arg(raw_->what())
                           .arg(raw_->centerRow())
                           .arg(raw_->centerCol()));
}

} // namespace qs::ui
