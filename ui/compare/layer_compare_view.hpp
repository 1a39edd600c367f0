#pragma once
// One layer under every method of the last compare run, side by side: per method a column with
// the histogram of the dequantized weights W' (W faint behind), the histogram of the error
// W' - W and the scales the format stores; the panes of a row share linked x and y axes. Below,
// the output error of every linear across the model, one line per method; clicking it selects
// a layer. The histograms are computed on a worker when a layer is selected.
#include "ui/compare/compare_job.hpp"

#include <QWidget>

#include <memory>

class QCustomPlot;
class QGridLayout;
class QLabel;

namespace qs::ui {

class JobRunner;
struct LayerComparison;

class LayerCompareView : public QWidget {
    Q_OBJECT
public:
    explicit LayerCompareView(QWidget* parent = nullptr);
    ~LayerCompareView() override;

    void setResults(std::shared_ptr<const CompareResults> results);
    void clear();
    void selectLayer(int block, int role); // block < 0 clears the panes

    bool isBusy() const;
    const LayerComparison* comparison() const { return comparison_.get(); }
    int paneCount() const { return int(weightPlots_.size()); }
    QCustomPlot* weightPlot(int pane) const { return weightPlots_.value(pane); }
    QCustomPlot* errorPlot(int pane) const { return errorPlots_.value(pane); }
    QCustomPlot* scalePlot(int pane) const { return scalePlots_.value(pane); }
    QCustomPlot* modelErrorPlot() const { return modelPlot_; }

signals:
    void comparisonShown(int block, int role);
    void layerClicked(int block, int role);

private:
    void onCompared(std::shared_ptr<const LayerComparison> c);
    void rebuildPanes(int count);

    JobRunner* runner_;
    std::shared_ptr<const CompareResults> results_;
    std::shared_ptr<const LayerComparison> comparison_;
    int block_ = -1, role_ = 0;
    QLabel* title_ = nullptr;
    QWidget* panesHost_ = nullptr;
    QGridLayout* panes_ = nullptr;
    QList<QLabel*> headers_;
    QList<QCustomPlot*> weightPlots_, errorPlots_, scalePlots_;
    QCustomPlot* modelPlot_ = nullptr;
};

} // namespace qs::ui
