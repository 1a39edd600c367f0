#pragma once
// The model-level compare table: one row per method of the last completed run (method, config,
// bits per weight, size, perplexity, KL, top-1, mean and worst layer error, time), failed
// methods with their error message.
#include "ui/compare/compare_job.hpp"

#include <QAbstractTableModel>

#include <memory>

namespace qs::ui {

class CompareTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        MethodColumn, ConfigColumn, BitsColumn, SizeColumn, PerplexityColumn, KlColumn, Top1Column,
        MeanErrorColumn, WorstErrorColumn, TimeColumn, StatusColumn, ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1 };

    explicit CompareTableModel(QObject* parent = nullptr);

    void setResults(std::shared_ptr<const CompareResults> results); // null clears
    const std::shared_ptr<const CompareResults>& results() const { return results_; }
    const MethodResult* methodAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const CompareResults> results_;
};

// The selected layer under every method of the run: format, bits per weight, weight MSE, SQNR,
// output error, time and the method's choices (JSON).
class LayerReportModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { MethodColumn, FormatColumn, BitsColumn, MseColumn, SqnrColumn, OutErrorColumn, TimeColumn,
                  ChoicesColumn, ColumnCount };

    explicit LayerReportModel(QObject* parent = nullptr);
    void setLayer(std::shared_ptr<const CompareResults> results, int block, int role); // block < 0 clears

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString method;
        const quant::LayerReport* report = nullptr;
    };
    std::shared_ptr<const CompareResults> results_;
    std::vector<Row> rows_;
};

} // namespace qs::ui
