#pragma once
// The metrics table of all linears behind a sort/filter proxy, with the whole-model error
// strip above it. Weight statistics are scanned on the panel's JobRunner when a model opens.
#include "ui/loading/model_loader.hpp"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace qs::ui {

class JobRunner;
class LinearMetricsModel;
class ModelErrorStrip;

class MetricsPanel : public QWidget {
    Q_OBJECT
public:
    explicit MetricsPanel(QWidget* parent = nullptr);

    void setModel(ModelPtr model); // lists the linears at once, scans their stats in the background
    LinearMetricsModel* metricsModel() const { return model_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    QTableView* view() const { return view_; }
    ModelErrorStrip* strip() const { return strip_; }
    bool isScanning() const;
    bool exportCsv(const QString& file) const; // what the view shows, in its order

signals:
    void tensorActivated(const QString& tensorName);
    void statsScanned();

private:
    void refreshMethodCombo();

    LinearMetricsModel* model_;
    QSortFilterProxyModel* proxy_;
    JobRunner* runner_;
    QLineEdit* filter_ = nullptr;
    QTableView* view_ = nullptr;
    ModelErrorStrip* strip_ = nullptr;
    QComboBox* stripMethod_ = nullptr;
    QLabel* scanStatus_ = nullptr;
};

} // namespace qs::ui
