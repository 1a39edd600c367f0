#include "ui/activations/activation_inspector.hpp"

#include "core/calib/calibration_set.hpp"
#include "ui/activations/activation_notes.hpp"
#include "ui/activations/activation_plots.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/plots/plot_style.hpp"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
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
    plot->axisRect()->setRangeZoom(Qt::Horizontal);
    plot->axisRect()->setRangeDrag(Qt::Horizontal);
    plot->legend->setBrush(QColor(255, 255, 255, 200));
    return plot;
}

} // namespace

ActivationInspector::ActivationInspector(QWidget* parent)
    : QWidget(parent), calibRunner_(new JobRunner(QStringLiteral("Activations"), this)),
      linearRunner_(new JobRunner(QStringLiteral("Smoothing"), this))
{
    setObjectName(QStringLiteral("activationInspector"));
    presetCombo_ = new QComboBox(this);
    presetCombo_->setObjectName(QStringLiteral("activationPreset"));
    for (const auto& p : calib::calibrationPresets())
        if (p.samples * p.length <= 64 * 512) // the paper preset is for the CLI
            presetCombo_->addItem(tr("%1 (%2 \u00d7 %3)").arg(QString::fromLatin1(p.name)).arg(p.samples).arg(p.length),
                                  QString::fromLatin1(p.name));
    presetCombo_->setCurrentIndex(std::max(0, presetCombo_->findData(QStringLiteral("quick"))));
    runButton_ = new QPushButton(tr("Calibrate"), this);
    runButton_->setObjectName(QStringLiteral("activationRun"));
    cancelButton_ = new QPushButton(tr("Cancel"), this);
    cancelButton_->setObjectName(QStringLiteral("activationCancel"));
    cancelButton_->setEnabled(false);
    status_ = new QLabel(tr("Calibrate to see the inputs of every linear."), this);
    status_->setObjectName(QStringLiteral("activationStatus"));
    linearCombo_ = new QComboBox(this);
    linearCombo_->setObjectName(QStringLiteral("activationLinear"));
    linearCombo_->setMinimumContentsLength(28);
    outlierNote_ = new QLabel(this);
    outlierNote_->setObjectName(QStringLiteral("activationOutlierNote"));
    auto row = [this](std::initializer_list<QWidget*> widgets) {
        auto* r = new QHBoxLayout;
        for (QWidget* w : widgets)
            r->addWidget(w, w == widgets.end()[-1] ? 1 : 0); // the last one takes the rest
        return r;
    };
    auto* top = row({new QLabel(tr("Calibration:"), this), presetCombo_, runButton_, cancelButton_, status_});
    auto* second = row({new QLabel(tr("Linear:"), this), linearCombo_, outlierNote_});
    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setObjectName(QStringLiteral("alphaSlider"));
    slider_->setRange(0, 100);
    slider_->setValue(50);
    slider_->setMaximumWidth(260);
    alphaLabel_ = new QLabel(this);
    alphaLabel_->setObjectName(QStringLiteral("alphaLabel"));
    alphaLabel_->setMinimumWidth(alphaLabel_->fontMetrics().horizontalAdvance(QStringLiteral("alpha 0.00")));
    rangeNote_ = new QLabel(this);
    rangeNote_->setObjectName(QStringLiteral("smoothingRangeNote"));
    errorNote_ = new QLabel(this);
    errorNote_->setObjectName(QStringLiteral("smoothingErrorNote"));
    for (QLabel* l : {status_, outlierNote_, rangeNote_, errorNote_}) { // long notes wrap, never widen the window
        l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        l->setWordWrap(true);
    }
    auto* alphaRow = row({new QLabel(tr("SmoothQuant s\u2c7c = max|X\u2c7c|^\u03b1 / max|W\u2c7c|^(1\u2212\u03b1):"), this),
                          slider_, alphaLabel_, rangeNote_});
    channelPlot_ = makePlot(QStringLiteral("activationChannelPlot"), tr("Input channels: absmax and mean |x|"), this);
    smoothPlot_ = makePlot(QStringLiteral("smoothingPlot"), tr("Range per channel after smoothing"), this);
    sweepPlot_ = makePlot(QStringLiteral("alphaSweepPlot"), tr("int8 error over alpha (calibration rows)"), this);
    sweepPlot_->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    grid->addWidget(channelPlot_, 0, 0, 1, 2);
    grid->addLayout(alphaRow, 1, 0, 1, 2);
    grid->addWidget(smoothPlot_, 2, 0);
    grid->addWidget(sweepPlot_, 2, 1);
    grid->addWidget(errorNote_, 3, 0, 1, 2);
    grid->setRowStretch(0, 2);
    grid->setRowStretch(2, 3);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addLayout(second);
    layout->addLayout(grid, 1);
    connect(runButton_, &QPushButton::clicked, this, [this] {
        ActivationRunSettings s;
        s.preset = presetCombo_->currentData().toString().toStdString();
        startCalibration(s);
    });
    connect(cancelButton_, &QPushButton::clicked, this, &ActivationInspector::cancel);
    connect(linearCombo_, &QComboBox::currentIndexChanged, this, &ActivationInspector::showLinear);
    connect(slider_, &QSlider::valueChanged, this, &ActivationInspector::onAlphaMoved);

    connect(calibRunner_, &JobRunner::progressed, this, [this](quint64, const QString& stage, double f, double) {
        status_->setText(tr("%1 (%2%)").arg(stage).arg(int(100 * f)));
    });
    connect(calibRunner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        onProfile(std::any_cast<std::shared_ptr<const ActivationRun>>(r));
    });
    connect(calibRunner_, &JobRunner::cancelled, this, [this] { status_->setText(tr("Cancelled.")); });
    connect(calibRunner_, &JobRunner::failed, this, [this](quint64, const QString& m) {
        status_->setText(tr("Failed: %1").arg(m));
        emit failed(m);
    });
    connect(calibRunner_, &JobRunner::idle, this, [this] {
        runButton_->setEnabled(model_ != nullptr);
        cancelButton_->setEnabled(false);
    });
    connect(linearRunner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        if (const auto* s = std::any_cast<std::shared_ptr<const LinearSmoothing>>(&r)) {
            if ((*s)->linear != current_)
                return;
            smoothing_ = *s;
            errors_ = smoothing_->atAlpha;
            drawAlphaSweep(sweepPlot_, smoothing_->sweep, alpha());
            emit smoothingAnalysed(current_);
        } else {
            errors_ = std::any_cast<analysis::SmoothedInt8Error>(r);
        }
        showErrors();
    });
    connect(linearRunner_, &JobRunner::failed, this, [this](quint64, const QString& m) {
        errorNote_->setText(tr("int8 errors: %1").arg(m));
        emit failed(m);
    });
    connect(linearRunner_, &JobRunner::idle, this, [this] {
        if (errorsPending_)
            requestErrors();
    });
    setModel(nullptr);
}

bool ActivationInspector::isBusy() const { return calibRunner_->isRunning() || linearRunner_->isRunning(); }
float ActivationInspector::alpha() const { return float(slider_->value()) / 100.0f; }
void ActivationInspector::setAlpha(float a) { slider_->setValue(int(std::lround(a * 100.0f))); }

void ActivationInspector::setModel(ModelPtr model)
{
    cancel();
    linearRunner_->cancel();
    model_ = std::move(model);
    run_.reset();
    smoothing_.reset();
    preview_.reset();
    errors_.reset();
    outliers_ = {};
    current_ = -1;
    {
        const QSignalBlocker block(linearCombo_);
        linearCombo_->clear();
    }
    runButton_->setEnabled(model_ && model_->spec.supported && model_->tokenizer);
    status_->setText(model_ ? tr("Calibrate to see the inputs of every linear.") : tr("Open a model first."));
    outlierNote_->setText(tr("Outlier channel: absmax > %1 \u00d7 the median channel absmax.")
                              .arg(analysis::kActivationOutlierFactor));
    rangeNote_->clear();
    errorNote_->clear();
    for (QCustomPlot* p : {channelPlot_, smoothPlot_, sweepPlot_}) {
        p->clearGraphs();
        p->clearItems();
        p->replot();
    }
    onAlphaMoved();
}

void ActivationInspector::startCalibration(const ActivationRunSettings& settings)
{
    if (!model_ || calibRunner_->isRunning())
        return;
    runButton_->setEnabled(false);
    cancelButton_->setEnabled(true);
    status_->setText(tr("Calibrating\u2026"));
    calibRunner_->start(tr("activation profile"), [model = model_, settings](JobContext& job) -> JobResult {
        return runActivationProfile(*model, settings, job.progress());
    });
}

void ActivationInspector::cancel() { calibRunner_->cancel(); }

void ActivationInspector::onProfile(std::shared_ptr<const ActivationRun> run)
{
    run_ = std::move(run);
    const auto& p = run_->profile;
    status_->setText(tr("%1 samples \u00d7 %2 tokens through the unquantized model in %3 s; %4 input rows kept per site.")
                  .arg(p.samples)
                  .arg(p.length)
                  .arg(run_->seconds, 0, 'f', 1)
                  .arg(run_->settings.sampleRows));
    const int keep = p.indexOf(wantBlock_, runtime::LinearRole(wantRole_));
    current_ = -1;
    {
        const QSignalBlocker block(linearCombo_);
        linearCombo_->clear();
        for (const auto& l : p.linears)
            linearCombo_->addItem(QString::fromStdString(l.name));
    }
    emit profileReady();
    linearCombo_->setCurrentIndex(std::max(keep, 0));
    if (current_ < 0) // the combo was already at that index
        showLinear(std::max(keep, 0));
}

void ActivationInspector::selectLinear(int block, int role)
{
    wantBlock_ = block;
    wantRole_ = role;
    if (!run_)
        return;
    const int i = run_->profile.indexOf(block, runtime::LinearRole(role));
    if (i >= 0)
        linearCombo_->setCurrentIndex(i);
}

void ActivationInspector::showLinear(int index)
{
    if (!run_ || index < 0 || std::size_t(index) >= run_->profile.linears.size())
        return;
    current_ = index;
    smoothing_.reset();
    errors_.reset();
    const auto& l = run_->profile.linears[std::size_t(index)];
    const auto& site = run_->profile.siteOf(l);
    outliers_ = analysis::activationOutliers(site.absmax);
    outlierNote_->setText(outlierNote(site, outliers_));
    drawChannelProfile(channelPlot_, site, outliers_);
    sweepPlot_->clearGraphs();
    sweepPlot_->replot();
    errorNote_->setText(tr("int8 errors: reading the weight\u2026"));
    onAlphaMoved();
    emit linearShown(index);
    errorsPending_ = false;
    linearRunner_->start(tr("smoothing %1").arg(QString::fromStdString(l.name)),
                         [model = model_, run = run_, index, a = alpha()](JobContext& job) -> JobResult {
                             return analyzeLinearSmoothing(*model, run, index, a, job.progress());
                         });
}

void ActivationInspector::onAlphaMoved()
{
    alphaLabel_->setText(tr("\u03b1 %1").arg(double(alpha()), 0, 'f', 2));
    if (!run_ || current_ < 0) {
        rangeNote_->clear();
        return;
    }
    const auto& l = run_->profile.linears[std::size_t(current_)];
    const auto& site = run_->profile.siteOf(l);
    preview_ = analysis::previewSmoothing(l, site, alpha()); // O(channels)
    drawSmoothing(smoothPlot_, *preview_, site, l);
    rangeNote_->setText(smoothingRangeNote(*preview_, site, l));
    if (smoothing_) {
        markAlpha(sweepPlot_, alpha());
        requestErrors();
    }
}

void ActivationInspector::requestErrors()
{
    if (!smoothing_ || !run_)
        return;
    if (linearRunner_->isRunning()) { // one at a time: the newest alpha goes when this one is done
        errorsPending_ = true;
        return;
    }
    errorsPending_ = false;
    linearRunner_->start(tr("int8 errors"), [run = run_, s = smoothing_, a = alpha()](JobContext&) -> JobResult {
        return int8ErrorAtAlpha(*run, s->linear, *s->weight, a);
    });
}

void ActivationInspector::showErrors()
{
    if (!errors_)
        return;
    const int rows = run_ && current_ >= 0 ? int(run_->profile.siteOf(run_->profile.linears[std::size_t(current_)]).sample.rows()) : 0;
    errorNote_->setText(int8ErrorNote(*errors_, rows));
    emit errorsUpdated(errors_->alpha);
}

} // namespace qs::ui
