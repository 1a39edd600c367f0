#include "ui/compare/compare_table_model.hpp"

#include "ui/text/number_format.hpp"

#include <QColor>

namespace qs::ui {

CompareTableModel::CompareTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void CompareTableModel::setResults(std::shared_ptr<const CompareResults> results)
{
    beginResetModel();
    results_ = std::move(results);
    endResetModel();
}

const MethodResult* CompareTableModel::methodAt(int row) const
{
    if (!results_ || row < 0 || row >= int(results_->methods.size()))
        return nullptr;
    return &results_->methods[std::size_t(row)];
}

int CompareTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !results_ ? 0 : int(results_->methods.size());
}

int CompareTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant CompareTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MethodResult& m = *methodAt(index.row());
    const int col = index.column();
    if (role == Qt::TextAlignmentRole)
        return col <= ConfigColumn || col == StatusColumn ? QVariant() : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role == Qt::ForegroundRole && !m.ok())
        return col == StatusColumn ? QVariant(QColor(200, 40, 40)) : QVariant();
    if (role == Qt::ToolTipRole && col == MethodColumn)
        return QString::fromStdString(m.config);
    if (role == Qt::ToolTipRole && col == StatusColumn && !m.ok())
        return QString::fromStdString(m.error);
    if (role != Qt::DisplayRole && role != SortRole && role != Qt::EditRole)
        return {};
    const bool text = role == Qt::DisplayRole;
    if (col == MethodColumn)
        return QString::fromStdString(m.method);
    if (col == ConfigColumn)
        return QString::fromStdString(m.config);
    if (col == StatusColumn)
        return m.ok() ? tr("ok") : tr("error: %1").arg(QString::fromStdString(m.error));
    if (col == TimeColumn)
        return text ? QVariant(QStringLiteral("%1 s").arg(m.seconds, 0, 'f', 1)) : QVariant(m.seconds);
    if (!m.ok())
        return text ? QVariant(QStringLiteral("\u2014")) : QVariant();
    double v = 0;
    QString shown;
    switch (col) {
    case BitsColumn: v = m.run.bitsPerWeight; shown = QString::number(v, 'f', 3); break;
    case SizeColumn: v = double(m.run.modelBytes); shown = formatBytes(m.run.modelBytes); break;
    case PerplexityColumn: v = m.eval.perplexity.perplexity(); shown = QString::number(v, 'f', 4); break;
    case KlColumn: v = m.eval.vsOriginal.meanKl; shown = QString::number(v, 'g', 4); break;
    case Top1Column: v = m.eval.vsOriginal.top1Agreement; shown = QStringLiteral("%1%").arg(100 * v, 0, 'f', 2); break;
    case MeanErrorColumn: v = m.run.meanOutputError(); shown = QString::number(v, 'f', 5); break;
    case WorstErrorColumn: v = m.run.worstOutputError(); shown = QString::number(v, 'f', 5); break;
    default: return {};
    }
    return text ? QVariant(shown) : QVariant(v);
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* const names[] = {"Method", "Config", "Bits/w", "Size", "Perplexity", "KL (nats)",
                                        "Top-1", "Mean layer err", "Worst layer err", "Time", "Status"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

LayerReportModel::LayerReportModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerReportModel::setLayer(std::shared_ptr<const CompareResults> results, int block, int role)
{
    beginResetModel();
    results_ = std::move(results);
    rows_.clear();
    if (results_ && block >= 0) {
        for (const auto& m : results_->methods) {
            Row row{QString::fromStdString(m.method), nullptr};
            for (const auto& l : m.run.layers)
                if (l.block == block && int(l.role) == role)
                    row.report = &l;
            rows_.push_back(row);
        }
    }
    endResetModel();
}

int LayerReportModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int LayerReportModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LayerReportModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& r = rows_[std::size_t(index.row())];
    const int col = index.column();
    if (role == Qt::ToolTipRole && col == ChoicesColumn && r.report)
        return QString::fromStdString(r.report->choices.dump(2));
    if (role != Qt::DisplayRole)
        return {};
    if (col == MethodColumn)
        return r.method;
    if (!r.report)
        return col == FormatColumn ? tr("no report") : QVariant();
    const quant::LayerReport& l = *r.report;
    switch (col) {
    case FormatColumn: return QString::fromStdString(l.format);
    case BitsColumn: return QString::number(l.bitsPerWeight, 'f', 3);
    case MseColumn: return QString::number(l.weightMse, 'e', 3);
    case SqnrColumn: return QString::number(l.sqnrDb, 'f', 2);
    case OutErrorColumn: return QString::number(l.outputRelError, 'f', 5);
    case TimeColumn: return QStringLiteral("%1 s").arg(l.seconds, 0, 'f', 3);
    case ChoicesColumn: return QString::fromStdString(l.choices.is_null() ? std::string() : l.choices.dump());
    default: return {};
    }
}

QVariant LayerReportModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* const names[] = {"Method", "Format", "Bits/w", "Weight MSE", "SQNR dB", "Output err",
                                        "Time", "Choices"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace qs::ui
