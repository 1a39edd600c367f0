#pragma once
// The tensor inspector: for the selected tensor, the histogram with a method's grid over it, a
// stats line, per-output-channel and per-input-channel absmax with outliers, and a pooled
// heatmap of |W| (or of a compared method's error or scales) with a raw-value drill-down. Reading and computing run on the inspector's own JobRunner; selecting another
// tensor while one is being read drops the older result.
#include "ui/inspector/inspector_plots.hpp"
#include "ui/loading/model_loader.hpp"

#include <QWidget>

#include <memory>

class QComboBox;
class QCustomPlot;
class QLabel;

namespace qs::ui {

class HeatmapPanel;
class JobRunner;
struct TensorAnalysis;

class TensorInspector : public QWidget {
    Q_OBJECT
public:
    explicit TensorInspector(QWidget* parent = nullptr);
    ~TensorInspector() override;

    void showTensor(ModelPtr model, const QString& tensorName);
    void clear(const QString& message = {});

    // Grid drawn over the histogram; groupSize 0 = per channel (INT4 only).
    void setOverlay(GridOverlay overlay, int groupSize);

    const TensorAnalysis* analysis() const { return analysis_.get(); }
    QCustomPlot* histogramPlot() const { return histogram_; }
    QCustomPlot* rowAbsmaxPlot() const { return rowPlot_; }
    QCustomPlot* colAbsmaxPlot() const { return colPlot_; }
    QCustomPlot* heatmapPlot() const;
    HeatmapPanel* heatmapPanel() const { return heatmap_; }
    bool isBusy() const;

signals:
    void analysisShown(const QString& tensorName);
    void analysisFailed(const QString& tensorName, const QString& message);

private:
    void onAnalysed(const std::shared_ptr<TensorAnalysis>& a);
    void applyOverlay();

    JobRunner* runner_;
    std::shared_ptr<TensorAnalysis> analysis_;
    QString pendingName_;
    QLabel* title_ = nullptr;
    QLabel* absmax_ = nullptr;
    QLabel* kurtosis_ = nullptr;
    QLabel* beyond6_ = nullptr;
    QLabel* range_ = nullptr;
    QLabel* meanStd_ = nullptr;
    QLabel* outlierChannels_ = nullptr;
    QLabel* overlayNote_ = nullptr;
    QComboBox* overlayCombo_ = nullptr;
    QCustomPlot* histogram_ = nullptr;
    QCustomPlot* rowPlot_ = nullptr;
    QCustomPlot* colPlot_ = nullptr;
    HeatmapPanel* heatmap_ = nullptr;
    QWidget* statsRow_ = nullptr;
};

} // namespace qs::ui
