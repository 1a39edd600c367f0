#pragma once
// The right-hand side of the main window: tabs for the selection details, the tensor
// inspector, the metrics table of all linears, and the compare page (run panel + compare
// view). Owns the compare JobRunner: one run at a time, progress into the run panel, results
// into the compare view and the metrics table only when the whole run completed.
#include "ui/compare/compare_job.hpp"
#include "ui/loading/model_loader.hpp"

#include <QTabWidget>

namespace qs::ui {

class ActivationInspector;
class CompareView;
class JobRunner;
class LayerCompareView;
class MetricsPanel;
class RunPanel;
class TensorInspector;
struct CompareSettings;

class AnalysisTabs : public QTabWidget {
    Q_OBJECT
public:
    enum Tab { DetailsTab, InspectorTab, MetricsTab, CompareTab, ActivationsTab, LayerCompareTab };

    explicit AnalysisTabs(QWidget* details, QWidget* parent = nullptr);

    void setModel(ModelPtr model);
    void showTensor(const QString& tensorName); // empty: a group or nothing selected
    void startCompare(const CompareSettings& settings);
    void cancelCompare();
    bool isRunning() const;

    TensorInspector* inspector() const { return inspector_; }
    MetricsPanel* metrics() const { return metrics_; }
    RunPanel* runPanel() const { return runPanel_; }
    CompareView* compareView() const { return compare_; }
    ActivationInspector* activations() const { return activations_; }
    LayerCompareView* layerCompare() const { return layerCompare_; }

signals:
    void tensorRequested(const QString& tensorName); // a view asks the tree to select it
    void computeDeviceChanged(const QString& name);
    void runStarted();
    void runProgressed(const QString& stage, double fraction, double etaSeconds);
    void runFinished();                              // results shown
    void runCancelled();
    void runFailed(const QString& message);

private:
    void onCompareSucceeded(const std::shared_ptr<CompareResults>& results);

    ModelPtr model_;
    TensorInspector* inspector_;
    MetricsPanel* metrics_;
    RunPanel* runPanel_;
    CompareView* compare_;
    ActivationInspector* activations_;
    LayerCompareView* layerCompare_;
    JobRunner* runner_;
};

} // namespace qs::ui
