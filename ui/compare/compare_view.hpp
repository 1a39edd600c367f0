#pragma once
// The compare view: the model-level table of the last run, the per-layer output error across
// the whole model with one line per method, and the selected layer's report under every method.
// Table to CSV and plot to PNG/PDF from buttons or context menus.
#include "ui/compare/compare_job.hpp"

#include <QWidget>

#include <memory>

class QCustomPlot;
class QLabel;
class QPushButton;
class QTableView;

namespace qs::ui {

class CompareTableModel;
class ExportDialog;
class LayerReportModel;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    void setResults(std::shared_ptr<const CompareResults> results);
    void clear();
    // Shows the report of one linear (block, runtime::LinearRole as int); block < 0 clears.
    void selectLayer(int block, int role);
    // The model and run settings the "Export model" button exports with (its methods are the
    // compared ones); null disables the button.
    void setExportSource(std::shared_ptr<const model::Model> model, CompareSettings settings);
    // Opens the export dialog (what the button does); returns it, or null without a model.
    ExportDialog* openExportDialog();

    CompareTableModel* tableModel() const { return table_; }
    LayerReportModel* layerReportModel() const { return layerReport_; }
    QCustomPlot* layerErrorPlot() const { return plot_; }
    QTableView* tableView() const { return tableView_; }

signals:
    void layerClicked(int block, int role);

private:
    void drawLayerErrors();
    void markSelectedLayer();

    CompareTableModel* table_;
    LayerReportModel* layerReport_;
    QTableView* tableView_ = nullptr;
    QTableView* reportView_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* layerTitle_ = nullptr;
    int selectedBlock_ = -1, selectedRole_ = 0;
    std::shared_ptr<const model::Model> exportModel_;
    CompareSettings exportSettings_;
    QPushButton* exportModelButton_ = nullptr;
};

} // namespace qs::ui
