#include "ui/windows/analysis_tabs.hpp"

#include "ui/activations/activation_inspector.hpp"
#include "ui/compare/compare_view.hpp"
#include "ui/compare/layer_compare_view.hpp"
#include "ui/compare/run_panel.hpp"
#include "ui/inspector/heatmap_panel.hpp"
#include "ui/inspector/tensor_inspector.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/metrics/linear_metrics_model.hpp"
#include "ui/metrics/metrics_panel.hpp"

#include <QScrollArea>
#include <QSplitter>

#include <spdlog/spdlog.h>

#include <cmath>

namespace qs::ui {

AnalysisTabs::AnalysisTabs(QWidget* details, QWidget* parent)
    : QTabWidget(parent), inspector_(new TensorInspector(this)), metrics_(new MetricsPanel(this)),
      runPanel_(new RunPanel(this)), compare_(new CompareView(this)),
      activations_(new ActivationInspector(this)), layerCompare_(new LayerCompareView(this)), runner_(new JobRunner(QStringLiteral("Compare"), this))
{
    setObjectName(QStringLiteral("analysisTabs"));
    setDocumentMode(true);
    auto* runScroll = new QScrollArea(this);
    runScroll->setWidget(runPanel_);
    runScroll->setWidgetResizable(true);
    runScroll->setFrameShape(QFrame::NoFrame);
    runScroll->setMinimumWidth(runPanel_->minimumSizeHint().width() + 16);
    runScroll->setMaximumWidth(300); // the compare view gets the rest
    auto* comparePage = new QSplitter(Qt::Horizontal, this);
    comparePage->setObjectName(QStringLiteral("comparePage"));
    comparePage->addWidget(runScroll);
    comparePage->addWidget(compare_);
    comparePage->setStretchFactor(1, 1);
    comparePage->setChildrenCollapsible(false);

    addTab(details, tr("Details"));
    addTab(inspector_, tr("Inspector"));
    addTab(metrics_, tr("Layer Metrics"));
    addTab(comparePage, tr("Compare"));
    addTab(activations_, tr("Activations"));
    addTab(layerCompare_, tr("Layer Compare"));

    connect(metrics_, &MetricsPanel::tensorActivated, this, &AnalysisTabs::tensorRequested);
    auto selectLinear = [this](int block, int role) {
        const int row = metrics_->metricsModel()->rowOf(block, role);
        if (row >= 0)
            emit tensorRequested(QString::fromStdString(metrics_->metricsModel()->linears()[std::size_t(row)].tensorName));
    };
    connect(compare_, &CompareView::layerClicked, this, selectLinear);
    connect(layerCompare_, &LayerCompareView::layerClicked, this, selectLinear);
    connect(runPanel_, &RunPanel::runRequested, this, &AnalysisTabs::startCompare);
    connect(runPanel_, &RunPanel::cancelRequested, this, &AnalysisTabs::cancelCompare);

    connect(runner_, &JobRunner::progressed, this, [this](quint64, const QString& stage, double f, double eta) {
        runPanel_->showProgress(stage, f, eta);
        emit runProgressed(stage, f, eta);
    });
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        onCompareSucceeded(std::any_cast<std::shared_ptr<CompareResults>>(r));
    });
    connect(runner_, &JobRunner::cancelled, this, [this] {
        runPanel_->setRunning(false);
        runPanel_->showOutcome(tr("Cancelled: no results were changed."));
        emit runCancelled();
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        runPanel_->setRunning(false);
        runPanel_->showOutcome(tr("Failed: %1").arg(message));
        emit runFailed(message);
    });
}

bool AnalysisTabs::isRunning() const { return runner_->isRunning(); }

void AnalysisTabs::setModel(ModelPtr model)
{
    cancelCompare();
    model_ = std::move(model);
    inspector_->clear();
    metrics_->setModel(model_);
    compare_->clear();
    compare_->setExportSource(model_, runPanel_->settings());
    activations_->setModel(model_);
    layerCompare_->clear();
    inspector_->heatmapPanel()->setResults(nullptr);
    runPanel_->setModelReady(model_ && model_->spec.supported && model_->tokenizer);
}

void AnalysisTabs::showTensor(const QString& tensorName)
{
    if (tensorName.isEmpty() || !model_) {
        inspector_->clear();
        return;
    }
    const int row = metrics_->metricsModel()->rowOfTensor(tensorName);
    const LinearEntry* linear = row >= 0 ? &metrics_->metricsModel()->linears()[std::size_t(row)] : nullptr;
    inspector_->heatmapPanel()->setLinear(linear ? linear->block : -1, linear ? linear->role : 0);
    inspector_->showTensor(model_, tensorName);
    if (linear) {
        const LinearEntry& e = *linear;
        compare_->selectLayer(e.block, e.role);
        activations_->selectLinear(e.block, e.role);
        layerCompare_->selectLayer(e.block, e.role);
    }
}

void AnalysisTabs::startCompare(const CompareSettings& settings)
{
    if (!model_ || runner_->isRunning() || settings.methods.empty())
        return;
    compare_->setExportSource(model_, settings); // the export dialog offers this run's methods
    runPanel_->setRunning(true);
    emit runStarted();
    std::string methods;
    for (const auto& m : settings.methods)
        methods += (methods.empty() ? "" : ",") + m;
    spdlog::info("compare run: {} ({} calibration, {} windows of {} tokens)", methods, settings.calibrationPreset,
                 settings.evalWindows, settings.evalContext);
    runner_->start(tr("compare %1").arg(QString::fromStdString(methods)), [model = model_, settings](JobContext& job) -> JobResult {
        return runCompare(*model, settings, [&job](const std::string& prefix) { return job.makeProgress(prefix); });
    });
}

void AnalysisTabs::cancelCompare() { runner_->cancel(); }

void AnalysisTabs::onCompareSucceeded(const std::shared_ptr<CompareResults>& results)
{
    runPanel_->setRunning(false);
    int failed = 0;
    QStringList methods;
    std::vector<std::vector<double>> errors;
    LinearMetricsModel* table = metrics_->metricsModel();
    for (const auto& m : results->methods) {
        if (!m.ok()) {
            ++failed;
            continue;
        }
        methods << QString::fromStdString(m.method);
        std::vector<double> column(std::size_t(table->rowCount()), std::nan(""));
        for (const auto& l : m.run.layers) {
            const int row = table->rowOf(l.block, int(l.role));
            if (row >= 0)
                column[std::size_t(row)] = l.outputRelError;
        }
        errors.push_back(std::move(column));
    }
    table->setMethodErrors(methods, errors);
    compare_->setResults(results);
    layerCompare_->setResults(results);
    inspector_->heatmapPanel()->setResults(results);
    runPanel_->showOutcome(failed ? tr("Done: %1 of %2 methods failed (see the Status column).")
                                        .arg(failed)
                                        .arg(results->methods.size())
                                  : tr("Done: %1 methods compared.").arg(results->methods.size()));
    emit computeDeviceChanged(QString::fromStdString(results->backendName));
    emit runFinished();
}

} // namespace qs::ui
