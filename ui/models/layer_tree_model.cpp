#include "ui/models/layer_tree_model.hpp"

#include "ui/text/number_format.hpp"

#include <QSet>

namespace qs::ui {

// One row: the layer node it shows, where it sits, and the totals of the tensors below it
// (computed once, so data() stays cheap while the view scrolls).
struct LayerTreeModel::Item {
    const model::LayerNode* node = nullptr;
    Item* parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<Item>> children;
    std::int64_t params = 0;
    std::uint64_t bytes = 0;
    int tensors = 0;
    QString dtype;     // the tensors' dtype, "mixed" when they differ
    QString tensorName;
};

std::unique_ptr<LayerTreeModel::Item> LayerTreeModel::buildItem(const model::LayerNode& node, Item* parent, int row)
{
    auto item = std::make_unique<LayerTreeModel::Item>();
    item->node = &node;
    item->parent = parent;
    item->row = row;
    if (node.tensor) {
        item->tensors = 1;
        item->params = node.tensor->numel();
        item->bytes = node.tensor->nbytes;
        item->dtype = QString::fromStdString(node.tensor->dtype);
        item->tensorName = QString::fromStdString(node.tensor->name);
    }
    QSet<QString> dtypes;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
        auto child = buildItem(node.children[i], item.get(), static_cast<int>(i));
        item->tensors += child->tensors;
        item->params += child->params;
        item->bytes += child->bytes;
        if (!child->dtype.isEmpty())
            dtypes.insert(child->dtype);
        item->children.push_back(std::move(child));
    }
    if (!node.tensor && !dtypes.isEmpty())
        item->dtype = dtypes.size() == 1 ? *dtypes.begin() : QStringLiteral("mixed");
    return item;
}

LayerTreeModel::LayerTreeModel(QObject* parent) : QAbstractItemModel(parent), root_(std::make_unique<Item>()) {}

LayerTreeModel::~LayerTreeModel() = default;

void LayerTreeModel::setModel(std::shared_ptr<const model::Model> model)
{
    beginResetModel();
    // Items point into tree_, which points into the checkpoint: replace them in that order.
    root_ = std::make_unique<Item>();
    tree_ = {};
    model_ = std::move(model);
    if (model_ && model_->checkpoint) {
        tree_ = model::buildLayerTree(*model_->checkpoint);
        root_ = buildItem(tree_, nullptr, 0);
    }
    endResetModel();
}

LayerTreeModel::Item* LayerTreeModel::itemAt(const QModelIndex& index) const
{
    return index.isValid() ? static_cast<Item*>(index.internalPointer()) : root_.get();
}

const io::TensorInfo* LayerTreeModel::toTensorInfo(const QModelIndex& index) const
{
    if (!index.isValid() || index.model() != this)
        return nullptr;
    return itemAt(index)->node->tensor;
}

const model::LayerNode* LayerTreeModel::toLayerNode(const QModelIndex& index) const
{
    if (!index.isValid() || index.model() != this)
        return nullptr;
    return itemAt(index)->node;
}

QModelIndex LayerTreeModel::indexOfTensor(const QString& tensorName) const
{
    // Depth-first; a few thousand rows at most, so a linear search is fine.
    std::vector<const Item*> stack{root_.get()};
    while (!stack.empty()) {
        const Item* item = stack.back();
        stack.pop_back();
        if (item != root_.get() && !item->tensorName.isEmpty() && item->tensorName == tensorName)
            return createIndex(item->row, 0, const_cast<Item*>(item));
        for (const auto& c : item->children)
            stack.push_back(c.get());
    }
    return {};
}

QModelIndex LayerTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (column < 0 || column >= ColumnCount || row < 0 || (parent.isValid() && parent.column() != 0))
        return {};
    const Item* p = itemAt(parent);
    if (row >= static_cast<int>(p->children.size()))
        return {};
    return createIndex(row, column, p->children[static_cast<std::size_t>(row)].get());
}

QModelIndex LayerTreeModel::parent(const QModelIndex& child) const
{
    if (!child.isValid())
        return {};
    const Item* p = itemAt(child)->parent;
    if (!p || p == root_.get())
        return {};
    return createIndex(p->row, 0, const_cast<Item*>(p));
}

int LayerTreeModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return static_cast<int>(itemAt(parent)->children.size());
}

int LayerTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant LayerTreeModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid())
        return {};
    const Item* item = itemAt(index);
    const model::LayerNode& node = *item->node;
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn: return QString::fromStdString(node.label);
        case ShapeColumn: return node.tensor ? QString::fromStdString(shapeToString(node.tensor->shape)) : QString();
        case DTypeColumn: return item->dtype;
        case ParamsColumn: return formatCount(item->params);
        case BytesColumn: return formatBytes(item->bytes);
        }
        return {};
    case Qt::ToolTipRole:
        switch (column) {
        case NameColumn: return node.tensor ? item->tensorName : QString::fromStdString(node.label);
        case ParamsColumn: return tr("%1 parameters").arg(formatExact(item->params));
        case BytesColumn: return tr("%1 bytes").arg(formatExact(static_cast<std::int64_t>(item->bytes)));
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column == ParamsColumn || column == BytesColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case TensorNameRole: return item->tensorName;
    case NodeKindRole: return static_cast<int>(node.kind);
    case BlockIndexRole: return node.block;
    case TensorRoleRole: return QString::fromStdString(node.role);
    case TensorCountRole: return item->tensors;
    case ParamsRole: return static_cast<qlonglong>(item->params);
    case BytesRole: return static_cast<qulonglong>(item->bytes);
    case FilterTextRole: return QString::fromStdString(node.label) + QLatin1Char(' ') + item->tensorName;
    case SortRole:
        switch (column) {
        case NameColumn: return item->row; // the tree's own order: Block 2 before Block 10
        case ShapeColumn: return static_cast<qlonglong>(node.tensor ? node.tensor->numel() : 0);
        case DTypeColumn: return item->dtype;
        case ParamsColumn: return static_cast<qlonglong>(item->params);
        case BytesColumn: return static_cast<qulonglong>(item->bytes);
        }
        return {};
    }
    return {};
}

QVariant LayerTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole && (section == ParamsColumn || section == BytesColumn))
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Name");
    case ShapeColumn: return tr("Shape");
    case DTypeColumn: return tr("DType");
    case ParamsColumn: return tr("Params");
    case BytesColumn: return tr("Bytes");
    }
    return {};
}

Qt::ItemFlags LayerTreeModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (itemAt(index)->children.empty())
        f |= Qt::ItemNeverHasChildren;
    return f;
}

} // namespace qs::ui
