#pragma once
// The tensor inspector's heatmap with its drill-down: |W| of the tensor, or (after a compare run
// that kept this linear) |W' - W| or the stored per-group scales under a chosen method, each
// max-pooled on a worker; a click shows the raw values of the 7 x 7 block around that cell in a
// table (the hottest |W| cell at first).
#include "ui/compare/compare_job.hpp"
#include "ui/inspector/method_heatmap.hpp"

#include <QWidget>

#include <memory>

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableView;

namespace qs::ui {

class JobRunner;
class RawBlockModel;
struct TensorAnalysis;

class HeatmapPanel : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapPanel(QWidget* parent = nullptr);
    ~HeatmapPanel() override;

    void setAnalysis(std::shared_ptr<const TensorAnalysis> analysis); // a matrix's analysis
    void clear(const QString& message);
    void setResults(std::shared_ptr<const CompareResults> results);
    void setLinear(int block, int role); // block < 0: the tensor is not a decoder linear
    // Chooses the heatmap: kind Weight ignores method. False when that choice is not offered.
    bool setMode(HeatmapKind kind, const QString& method = {});
    void showCell(int row, int col); // drill-down into the current heatmap's matrix

    bool isBusy() const;
    HeatmapKind kind() const { return kind_; }
    const MethodHeatmap* methodHeatmap() const { return heatmap_.get(); }
    QCustomPlot* plot() const { return plot_; }
    RawBlockModel* rawModel() const { return raw_; }
    QComboBox* modeCombo() const { return mode_; }

signals:
    void heatmapShown(int kind); // HeatmapKind

private:
    void fillModes();
    void onModeChanged();
    void drawMap(const QCPColorMapData& data, const QString& valueLabel, int poolRows, int poolCols, const QString& xLabel);

    JobRunner* runner_;
    std::shared_ptr<const TensorAnalysis> analysis_;
    std::shared_ptr<const CompareResults> results_;
    std::shared_ptr<const MethodHeatmap> heatmap_;
    HeatmapKind kind_ = HeatmapKind::Weight;
    int block_ = -1, role_ = 0;
    QComboBox* mode_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    QLabel* rawTitle_ = nullptr;
    QTableView* rawView_ = nullptr;
    RawBlockModel* raw_ = nullptr;
};

} // namespace qs::ui
