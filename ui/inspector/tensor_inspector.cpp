#include "ui/inspector/tensor_inspector.hpp"

#include "ui/inspector/heatmap_panel.hpp"
#include "ui/inspector/tensor_analysis.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/plots/plot_style.hpp"
#include "ui/text/number_format.hpp"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace qs::ui {

namespace {

QCustomPlot* makePlot(const QString& objectName, const QString& title, QWidget* parent)
{
    auto* plot = new QCustomPlot(parent);
    plot->setObjectName(objectName);
    stylePlot(plot);
    setPlotTitle(plot, title);
    addPlotExportMenu(plot);
    return plot;
}

QString number(double v) { return QString::number(v, 'g', 4); }

} // namespace

TensorInspector::TensorInspector(QWidget* parent) : QWidget(parent), runner_(new JobRunner(QStringLiteral("TensorInspector"), this))
{
    setObjectName(QStringLiteral("tensorInspector"));
    title_ = new QLabel(tr("Select a tensor in the layer tree"), this);
    title_->setObjectName(QStringLiteral("inspectorTitle"));
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont tf = title_->font();
    tf.setBold(true);
    title_->setFont(tf);

    statsRow_ = new QWidget(this);
    auto* stats = new QHBoxLayout(statsRow_);
    stats->setContentsMargins(0, 0, 0, 0);
    stats->setSpacing(14);
    auto statLabel = [this, stats](const QString& titleText, const QString& name) {
        auto* t = new QLabel(titleText, statsRow_);
        t->setStyleSheet(QStringLiteral("color: palette(mid)"));
        auto* v = new QLabel(QStringLiteral("\u2014"), statsRow_);
        v->setObjectName(name);
        v->setTextInteractionFlags(Qt::TextSelectableByMouse);
        auto* pair = new QHBoxLayout;
        pair->setSpacing(4);
        pair->addWidget(t);
        pair->addWidget(v);
        stats->addLayout(pair);
        return v;
    };
    absmax_ = statLabel(tr("absmax"), QStringLiteral("inspectorAbsmax"));
    kurtosis_ = statLabel(tr("kurtosis"), QStringLiteral("inspectorKurtosis"));
    beyond6_ = statLabel(tr("beyond 6\u03c3"), QStringLiteral("inspectorBeyond6Sigma"));
    range_ = statLabel(tr("range"), QStringLiteral("inspectorRange"));
    meanStd_ = statLabel(tr("mean \u00b1 std"), QStringLiteral("inspectorMeanStd"));
    outlierChannels_ = statLabel(tr("outlier channels out/in"), QStringLiteral("inspectorOutlierChannels"));
    stats->addStretch(1);

    overlayCombo_ = new QComboBox(this);
    overlayCombo_->setObjectName(QStringLiteral("overlayCombo"));
    overlayCombo_->addItem(tr("No grid"), QVariantList{int(GridOverlay::None), 0});
    overlayCombo_->addItem(tr("NF4 grid"), QVariantList{int(GridOverlay::Nf4), 0});
    for (int g : overlayGroupSizes())
        overlayCombo_->addItem(g > 0 ? tr("INT4 grid, group %1").arg(g) : tr("INT4 grid, per channel"),
                               QVariantList{int(GridOverlay::Int4), g});
    overlayCombo_->setCurrentIndex(1);
    overlayNote_ = new QLabel(this);
    overlayNote_->setObjectName(QStringLiteral("overlayNote"));
    overlayNote_->setStyleSheet(QStringLiteral("color: palette(mid)"));
    connect(overlayCombo_, &QComboBox::currentIndexChanged, this, &TensorInspector::applyOverlay);
    auto* overlayRow = new QHBoxLayout;
    overlayRow->addWidget(new QLabel(tr("Histogram overlay:"), this));
    overlayRow->addWidget(overlayCombo_);
    overlayRow->addWidget(overlayNote_, 1);

    histogram_ = makePlot(QStringLiteral("histogramPlot"), tr("Weight histogram"), this);
    heatmap_ = new HeatmapPanel(this);
    rowPlot_ = makePlot(QStringLiteral("rowAbsmaxPlot"), tr("Per-output-channel absmax"), this);
    colPlot_ = makePlot(QStringLiteral("colAbsmaxPlot"), tr("Per-input-channel absmax"), this);

    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    grid->addWidget(histogram_, 0, 0);
    grid->addWidget(heatmap_, 0, 1);
    grid->addWidget(rowPlot_, 1, 0);
    grid->addWidget(colPlot_, 1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(0, 3); // the heatmap row holds the drill-down table too
    grid->setRowStretch(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(title_);
    layout->addWidget(statsRow_);
    layout->addLayout(overlayRow);
    layout->addLayout(grid, 1);

    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        onAnalysed(std::any_cast<std::shared_ptr<TensorAnalysis>>(r));
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        clear(tr("Cannot read %1: %2").arg(pendingName_, message));
        emit analysisFailed(pendingName_, message);
    });
    clear();
}

TensorInspector::~TensorInspector() = default;

bool TensorInspector::isBusy() const { return runner_->isRunning() || heatmap_->isBusy(); }
QCustomPlot* TensorInspector::heatmapPlot() const { return heatmap_->plot(); }

void TensorInspector::showTensor(ModelPtr model, const QString& tensorName)
{
    if (!model || !model->checkpoint)
        return clear();
    pendingName_ = tensorName;
    title_->setText(tr("%1 \u2014 reading\u2026").arg(tensorName));
    const std::string name = tensorName.toStdString();
    runner_->start(tr("inspect %1").arg(tensorName), [model, name](JobContext& job) -> JobResult {
        return analyzeTensor(*model->checkpoint, name, job.progress());
    });
}

void TensorInspector::clear(const QString& message)
{
    runner_->cancel();
    analysis_.reset();
    title_->setText(message.isEmpty() ? tr("Select a tensor in the layer tree") : message);
    for (QLabel* l : {absmax_, kurtosis_, beyond6_, range_, meanStd_, outlierChannels_})
        l->setText(QStringLiteral("\u2014"));
    overlayNote_->clear();
    const QString empty = tr("no tensor selected");
    for (QCustomPlot* p : {histogram_, rowPlot_, colPlot_})
        clearPlot(p, empty);
    heatmap_->clear(empty);
}

void TensorInspector::setOverlay(GridOverlay overlay, int groupSize)
{
    for (int i = 0; i < overlayCombo_->count(); ++i) {
        const QVariantList d = overlayCombo_->itemData(i).toList();
        if (d.value(0).toInt() == int(overlay) && (overlay != GridOverlay::Int4 || d.value(1).toInt() == groupSize)) {
            overlayCombo_->setCurrentIndex(i);
            return;
        }
    }
}

void TensorInspector::onAnalysed(const std::shared_ptr<TensorAnalysis>& a)
{
    analysis_ = a;
    const auto& s = a->stats;
    title_->setText(QStringLiteral("%1  %2  \u00b7  %3 values")
                        .arg(QString::fromStdString(a->name), QString::fromStdString(shapeToString(a->shape)),
                             formatExact(std::int64_t(s.count))));
    absmax_->setText(number(s.absmax));
    kurtosis_->setText(number(s.kurtosis));
    beyond6_->setText(QStringLiteral("%1 (%2%)")
                          .arg(formatExact(std::int64_t(s.beyond6Sigma)))
                          .arg(s.count ? 100.0 * double(s.beyond6Sigma) / double(s.count) : 0.0, 0, 'f', 3));
    range_->setText(QStringLiteral("[%1, %2]").arg(number(s.min), number(s.max)));
    meanStd_->setText(QStringLiteral("%1 \u00b1 %2").arg(number(s.mean), number(s.std)));
    drawHistogram(histogram_, *a);
    applyOverlay();
    if (a->shape.size() == 2) {
        outlierChannels_->setText(QStringLiteral("%1 / %2").arg(a->rowOutliers.size()).arg(a->colOutliers.size()));
        drawChannelAbsmax(rowPlot_, a->rowAbsmax, a->rowOutliers, a->rowOutlierThreshold, tr("output channel (row)"));
        drawChannelAbsmax(colPlot_, a->colAbsmax, a->colOutliers, a->colOutlierThreshold, tr("input channel (column)"));
        heatmap_->setAnalysis(a);
    } else {
        outlierChannels_->setText(tr("n/a (not a matrix)"));
        const QString msg = tr("not a matrix");
        for (QCustomPlot* p : {rowPlot_, colPlot_})
            clearPlot(p, msg);
        heatmap_->clear(msg);
    }
    emit analysisShown(QString::fromStdString(a->name));
}

void TensorInspector::applyOverlay()
{
    if (!analysis_)
        return;
    const QVariantList d = overlayCombo_->currentData().toList();
    const auto overlay = GridOverlay(d.value(0).toInt());
    const bool matrix = analysis_->shape.size() == 2;
    const QString note = drawGridOverlay(histogram_, *analysis_, matrix || overlay != GridOverlay::Int4 ? overlay : GridOverlay::None,
                                         d.value(1).toInt());
    overlayNote_->setText(note);
}

} // namespace qs::ui
