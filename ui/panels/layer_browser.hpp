#pragma once
// The layer tree with a filter line: a QTreeView over a QSortFilterProxyModel over the
// LayerTreeModel. Reports the selected row as an index of the source model.
#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace qs::ui {

class LayerTreeModel;

class LayerBrowser : public QWidget {
    Q_OBJECT
public:
    explicit LayerBrowser(LayerTreeModel* model, QWidget* parent = nullptr);

    QTreeView* view() const { return view_; }
    QLineEdit* filterEdit() const { return filter_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }

    // Selects (and scrolls to) the row of a tensor; false when the model has no such tensor.
    bool selectTensor(const QString& tensorName);
    // Expands the first block and sizes the columns: what a freshly opened model shows.
    void showInitialState();

signals:
    void currentChanged(const QModelIndex& sourceIndex); // invalid when nothing is selected

private:
    void applyFilter(const QString& text);
    void resizeColumns();

    LayerTreeModel* model_;
    QSortFilterProxyModel* proxy_;
    QLineEdit* filter_;
    QTreeView* view_;
};

} // namespace qs::ui
