#include "ui/metrics/linear_metrics_model.hpp"

#include "ui/text/number_format.hpp"

#include <cmath>

namespace qs::ui {

QString shortLinearName(const std::string& tensorName)
{
    QString s = QString::fromStdString(tensorName);
    if (s.startsWith(QLatin1String("model.")))
        s.remove(0, 6);
    if (s.endsWith(QLatin1String(".weight")))
        s.chop(7);
    return s;
}

LinearMetricsModel::LinearMetricsModel(QObject* parent) : QAbstractTableModel(parent) {}

void LinearMetricsModel::setLinears(std::vector<LinearEntry> linears)
{
    beginResetModel();
    linears_ = std::move(linears);
    stats_.assign(linears_.size(), {});
    methods_.clear();
    errors_.clear();
    endResetModel();
    emit errorsChanged();
}

void LinearMetricsModel::setStats(const std::vector<LinearStats>& stats)
{
    if (stats.size() != linears_.size() || linears_.empty())
        return;
    stats_ = stats;
    emit dataChanged(index(0, AbsmaxColumn), index(rowCount() - 1, OutliersColumn));
}

void LinearMetricsModel::setMethodErrors(const QStringList& methods, const std::vector<std::vector<double>>& errors)
{
    if (!methods_.isEmpty()) {
        beginRemoveColumns({}, FixedColumns, FixedColumns + int(methods_.size()) - 1);
        methods_.clear();
        errors_.clear();
        endRemoveColumns();
    }
    if (!methods.isEmpty()) {
        beginInsertColumns({}, FixedColumns, FixedColumns + int(methods.size()) - 1);
        methods_ = methods;
        errors_ = errors;
        errors_.resize(std::size_t(methods.size()));
        for (auto& column : errors_)
            column.resize(linears_.size(), std::nan(""));
        endInsertColumns();
    }
    emit errorsChanged();
}

int LinearMetricsModel::methodColumn(const QString& method) const
{
    const int i = int(methods_.indexOf(method));
    return i < 0 ? -1 : FixedColumns + i;
}

double LinearMetricsModel::error(int row, int methodIndex) const
{
    if (methodIndex < 0 || methodIndex >= int(errors_.size()) || row < 0 || row >= int(linears_.size()))
        return std::nan("");
    return errors_[std::size_t(methodIndex)][std::size_t(row)];
}

int LinearMetricsModel::rowOf(int block, int role) const
{
    for (std::size_t i = 0; i < linears_.size(); ++i)
        if (linears_[i].block == block && linears_[i].role == role)
            return int(i);
    return -1;
}

int LinearMetricsModel::rowOfTensor(const QString& tensorName) const
{
    const std::string name = tensorName.toStdString();
    for (std::size_t i = 0; i < linears_.size(); ++i)
        if (linears_[i].tensorName == name)
            return int(i);
    return -1;
}

int LinearMetricsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(linears_.size());
}

int LinearMetricsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : FixedColumns + int(methods_.size());
}

QVariant LinearMetricsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row(), col = index.column();
    const LinearEntry& e = linears_[std::size_t(row)];
    const LinearStats& s = stats_[std::size_t(row)];
    if (role == TensorNameRole)
        return QString::fromStdString(e.tensorName);
    if (role == BlockRole)
        return e.block;
    if (col >= FixedColumns) {
        const double err = error(row, col - FixedColumns);
        const bool known = !std::isnan(err);
        switch (role) {
        case Qt::DisplayRole: return known ? QString::number(err, 'f', 5) : QString();
        case ErrorRole: return known ? QVariant(err) : QVariant();
        case SortRole: return known ? err : -1.0;
        case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        case Qt::ToolTipRole:
            return known ? tr("%1: relative output error %2").arg(methods_[col - FixedColumns]).arg(err, 0, 'g', 6)
                         : QVariant();
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole)
        return col == NameColumn ? QVariant() : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (col == NameColumn && (role == Qt::ToolTipRole || role == Qt::EditRole))
        return QString::fromStdString(e.tensorName); // full name: tooltips and CSV
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool sort = role == SortRole;
    switch (col) {
    case NameColumn: return sort ? QVariant(row) : QVariant(shortLinearName(e.tensorName));
    case ShapeColumn: return sort ? QVariant(qlonglong(e.params)) : QVariant(QString::fromStdString(shapeToString(e.shape)));
    case ParamsColumn: return sort ? QVariant(qlonglong(e.params)) : QVariant(formatCount(e.params));
    case AbsmaxColumn: return !s.known ? QVariant(sort ? -1.0 : QVariant()) : sort ? QVariant(s.absmax) : QVariant(QString::number(s.absmax, 'g', 4));
    case KurtosisColumn: return !s.known ? QVariant(sort ? -1.0 : QVariant()) : sort ? QVariant(s.kurtosis) : QVariant(QString::number(s.kurtosis, 'f', 2));
    case OutliersColumn: return !s.known ? QVariant(sort ? -1.0 : QVariant()) : sort ? QVariant(qulonglong(s.beyond6Sigma)) : QVariant(formatExact(std::int64_t(s.beyond6Sigma)));
    default: return {};
    }
}

QVariant LinearMetricsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::ToolTipRole) {
        if (section == OutliersColumn)
            return tr("Weights with |w - mean| > 6 std");
        if (section >= FixedColumns)
            return tr("Relative output error ||XW\u1d40 - XW'\u1d40|| / ||XW\u1d40|| on calibration inputs");
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Linear");
    case ShapeColumn: return tr("Shape");
    case ParamsColumn: return tr("Params");
    case AbsmaxColumn: return tr("Absmax");
    case KurtosisColumn: return tr("Kurtosis");
    case OutliersColumn: return tr("Outliers");
    default:
        if (section >= FixedColumns && section < FixedColumns + int(methods_.size()))
            return tr("%1 error").arg(methods_[section - FixedColumns]);
        return {};
    }
}

} // namespace qs::ui
