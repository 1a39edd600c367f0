#pragma once
// The layer tree of an opened model as a Qt item model: embeddings, blocks > attention / MLP /
// norms > tensors, final norm, LM head, other. Group rows show the sums of their tensors.
// Every view (tree, later the metrics table) is a proxy over this one model.
#include "core/model/layer_tree.hpp"
#include "core/model/model.hpp"

#include <QAbstractItemModel>

#include <memory>
#include <vector>

namespace qs::ui {

class LayerTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { NameColumn, ShapeColumn, DTypeColumn, ParamsColumn, BytesColumn, ColumnCount };

    enum Role {
        TensorNameRole = Qt::UserRole + 1, // QString: full tensor name, empty for groups
        NodeKindRole,                      // int: model::LayerNode::Kind
        BlockIndexRole,                    // int: decoder block, -1 outside blocks
        TensorRoleRole,                    // QString: "q","k","v","o","gate","up","down","norm",...
        SortRole,                          // numbers for numeric columns, model order for names
        FilterTextRole,                    // label and full tensor name, what the filter matches
        TensorCountRole,                   // int: tensors at or below this row
        ParamsRole,                        // qlonglong: parameters at or below this row
        BytesRole,                         // qulonglong: bytes at or below this row
    };

    explicit LayerTreeModel(QObject* parent = nullptr);
    ~LayerTreeModel() override;

    // Rebuilds the tree for `model` (null clears it). The model is kept alive while shown
    // because tree nodes point into its checkpoint.
    void setModel(std::shared_ptr<const model::Model> model);
    const std::shared_ptr<const model::Model>& model() const { return model_; }

    // The tensor behind an index of this model (not of a proxy), or null for group rows.
    const io::TensorInfo* toTensorInfo(const QModelIndex& index) const;
    const model::LayerNode* toLayerNode(const QModelIndex& index) const;
    // The index (column 0) of the row showing `tensorName`, invalid when absent.
    QModelIndex indexOfTensor(const QString& tensorName) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

private:
    struct Item;
    Item* itemAt(const QModelIndex& index) const;
    static std::unique_ptr<Item> buildItem(const model::LayerNode& node, Item* parent, int row);

    std::shared_ptr<const model::Model> model_;
    model::LayerNode tree_;
    std::unique_ptr<Item> root_;
};

} // namespace qs::ui
