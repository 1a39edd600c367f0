#include "ui/panels/layer_browser.hpp"

#include "core/model/layer_tree.hpp"
#include "ui/models/layer_tree_model.hpp"

#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace qs::ui {

LayerBrowser::LayerBrowser(LayerTreeModel* model, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(new QSortFilterProxyModel(this)), filter_(new QLineEdit(this)),
      view_(new QTreeView(this))
{
    setObjectName(QStringLiteral("layerBrowser"));
    proxy_->setObjectName(QStringLiteral("layerProxy"));
    proxy_->setSourceModel(model_);
    proxy_->setFilterRole(LayerTreeModel::FilterTextRole);
    proxy_->setSortRole(LayerTreeModel::SortRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    // A match deep in the tree keeps its block and group visible; a matching group keeps
    // all of its tensors ("Attention" shows every attention tensor).
    proxy_->setRecursiveFilteringEnabled(true);
    proxy_->setAutoAcceptChildRows(true);

    filter_->setObjectName(QStringLiteral("layerFilter"));
    filter_->setPlaceholderText(tr("Filter (e.g. q_proj, Block 3, blk.3.ffn)"));
    filter_->setClearButtonEnabled(true);
    connect(filter_, &QLineEdit::textChanged, this, &LayerBrowser::applyFilter);

    view_->setObjectName(QStringLiteral("layerTree"));
    view_->setModel(proxy_);
    view_->setUniformRowHeights(true);
    view_->setAlternatingRowColors(true);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSortingEnabled(true);
    view_->sortByColumn(LayerTreeModel::NameColumn, Qt::AscendingOrder);
    // Ascending by name is the model's own order (embeddings, blocks, head): no arrow for it
    // until the user sorts by clicking a header.
    view_->header()->setSortIndicatorShown(false);
    connect(view_->header(), &QHeaderView::sectionClicked, this,
            [this] { view_->header()->setSortIndicatorShown(true); });
    view_->header()->setStretchLastSection(false);
    view_->header()->setSectionResizeMode(LayerTreeModel::NameColumn, QHeaderView::Stretch);
    view_->header()->setMinimumSectionSize(48);

    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) { emit currentChanged(proxy_->mapToSource(current)); });
    connect(model_, &QAbstractItemModel::modelReset, this, [this] { emit currentChanged({}); });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 0, 0);
    layout->addWidget(filter_);
    layout->addWidget(view_, 1);
}

void LayerBrowser::applyFilter(const QString& text)
{
    proxy_->setFilterFixedString(text.trimmed());
    if (!text.trimmed().isEmpty())
        view_->expandAll(); // show where the matches are
    const QModelIndex current = view_->currentIndex();
    if (current.isValid())
        view_->scrollTo(current);
}

bool LayerBrowser::selectTensor(const QString& tensorName)
{
    const QModelIndex source = model_->indexOfTensor(tensorName);
    if (!source.isValid())
        return false;
    QModelIndex proxyIndex = proxy_->mapFromSource(source);
    if (!proxyIndex.isValid()) { // hidden by the filter: clear it rather than fail
        filter_->clear();
        proxyIndex = proxy_->mapFromSource(source);
    }
    view_->setCurrentIndex(proxyIndex);
    view_->scrollTo(proxyIndex, QAbstractItemView::PositionAtCenter);
    return true;
}

void LayerBrowser::showInitialState()
{
    view_->collapseAll();
    // Expand the first block and its groups so the structure is visible at a glance.
    for (int row = 0; row < proxy_->rowCount(); ++row) {
        const QModelIndex top = proxy_->index(row, 0);
        if (top.data(LayerTreeModel::NodeKindRole).toInt() != static_cast<int>(model::LayerNode::Kind::Block))
            continue;
        view_->expand(top);
        for (int g = 0; g < proxy_->rowCount(top); ++g)
            view_->expand(proxy_->index(g, 0, top));
        break;
    }
    resizeColumns();
}

void LayerBrowser::resizeColumns()
{
    for (int c = LayerTreeModel::ShapeColumn; c < LayerTreeModel::ColumnCount; ++c)
        view_->resizeColumnToContents(c);
}

} // namespace qs::ui
