#pragma once
// The drill-down under a heatmap: the raw values of a small block of a matrix around one
// cell (the clicked one), with the true row and column indices in the headers. The values come
// through an accessor that holds its data alive (a shared_ptr capture), so the model never
// copies a whole matrix.
#include <QAbstractTableModel>

#include <functional>

namespace qs::ui {

class RawBlockModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using Accessor = std::function<double(int row, int col)>;
    static constexpr int kRadius = 3; // a 7 x 7 block

    explicit RawBlockModel(QObject* parent = nullptr);

    // Shows the block around (row, col) of a rows x cols matrix, clamped to its edges.
    void setBlock(Accessor values, int rows, int cols, int row, int col, const QString& what);
    void clear();

    int centerRow() const { return row_; }
    int centerCol() const { return col_; }
    int firstRow() const { return r0_; }
    int firstCol() const { return c0_; }
    const QString& what() const { return what_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    Accessor values_;
    int rows_ = 0, cols_ = 0, row_ = -1, col_ = -1, r0_ = 0, c0_ = 0, nr_ = 0, nc_ = 0;
    QString what_;
};

} // namespace qs::ui
