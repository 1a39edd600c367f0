#include "ui/inspector/raw_block_model.hpp"

#include <QColor>
#include <QFont>

#include <algorithm>

namespace qs::ui {

RawBlockModel::RawBlockModel(QObject* parent) : QAbstractTableModel(parent) {}

void RawBlockModel::setBlock(Accessor values, int rows, int cols, int row, int col, const QString& what)
{
    beginResetModel();
    values_ = std::move(values);
    rows_ = std::max(0, rows);
    cols_ = std::max(0, cols);
    row_ = std::clamp(row, 0, std::max(0, rows_ - 1));
    col_ = std::clamp(col, 0, std::max(0, cols_ - 1));
    // Keep a full block near the edges: shift the window instead of cutting it.
    nr_ = std::min(rows_, 2 * kRadius + 1);
    nc_ = std::min(cols_, 2 * kRadius + 1);
    r0_ = std::clamp(row_ - kRadius, 0, rows_ - nr_);
    c0_ = std::clamp(col_ - kRadius, 0, cols_ - nc_);
    if (!values_)
        nr_ = nc_ = 0;
    what_ = what;
    endResetModel();
}

void RawBlockModel::clear()
{
    beginResetModel();
    values_ = nullptr;
    rows_ = cols_ = nr_ = nc_ = r0_ = c0_ = 0;
    row_ = col_ = -1;
    what_.clear();
    endResetModel();
}

int RawBlockModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : nr_; }
int RawBlockModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : nc_; }

QVariant RawBlockModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= nr_ || index.column() >= nc_)
        return {};
    const int r = r0_ + index.row(), c = c0_ + index.column();
    const bool centre = r == row_ && c == col_;
    switch (role) {
    case Qt::DisplayRole: return QString::number(values_(r, c), 'g', 4);
    case Qt::EditRole: return values_(r, c);
    case Qt::ToolTipRole: return QStringLiteral("%1 [%2, %3] = %4").arg(what_).arg(r).arg(c).arg(values_(r, c), 0, 'g', 8);
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::BackgroundRole: return centre ? QVariant(QColor(255, 225, 140)) : QVariant();
    case Qt::FontRole:
        if (centre) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    default: return {};
    }
}

QVariant RawBlockModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole || section < 0)
        return {};
    if (orientation == Qt::Horizontal)
        return section < nc_ ? QVariant(c0_ + section) : QVariant();
    return section < nr_ ? QVariant(r0_ + section) : QVariant();
}

} // namespace qs::ui
