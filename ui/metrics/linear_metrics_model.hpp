#pragma once
// The metrics table: one row per linear of the open model (name, shape, params, absmax,
// kurtosis, outlier count) and one error column per quantization method once a compare run
// has delivered. Views sort and filter it through a QSortFilterProxyModel.
#include "ui/metrics/linear_scan.hpp"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace qs::ui {

// What the table shows for a linear: "layers.3.mlp.down_proj" for "model.layers.3.mlp.down_proj.weight".
QString shortLinearName(const std::string& tensorName);

class LinearMetricsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, ShapeColumn, ParamsColumn, AbsmaxColumn, KurtosisColumn, OutliersColumn, FixedColumns };
    enum Role {
        TensorNameRole = Qt::UserRole + 1, // QString
        SortRole,                          // numbers for numeric columns, row order for names
        ErrorRole,                         // double on method columns, invalid when unknown
        BlockRole,                         // int
    };

    explicit LinearMetricsModel(QObject* parent = nullptr);

    void setLinears(std::vector<LinearEntry> linears); // resets; clears stats and errors
    void setStats(const std::vector<LinearStats>& stats);
    // One error per row per method (NaN where a method has none); replaces all method columns.
    void setMethodErrors(const QStringList& methods, const std::vector<std::vector<double>>& errors);

    const std::vector<LinearEntry>& linears() const { return linears_; }
    const QStringList& methods() const { return methods_; }
    int methodColumn(const QString& method) const; // -1 when absent
    double error(int row, int methodIndex) const;
    int rowOf(int block, int role) const;          // -1 when absent
    int rowOfTensor(const QString& tensorName) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void errorsChanged();

private:
    std::vector<LinearEntry> linears_;
    std::vector<LinearStats> stats_;
    QStringList methods_;
    std::vector<std::vector<double>> errors_; // [method][row]
};

} // namespace qs::ui
