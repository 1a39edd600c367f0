#pragma once
// The Hugging Face cache listing as a table: one row per snapshot (repo, revision, size,
// contents, modified). Rows QuantScope cannot open (no weights, broken links only) are greyed.
#include "core/io/hf_cache_scan.hpp"

#include <QAbstractTableModel>

#include <vector>

namespace qs::ui {

class HfCacheModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { RepoColumn, RevisionColumn, SizeColumn, ContentsColumn, ModifiedColumn, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, OpenPathRole, OpenableRole };

    using QAbstractTableModel::QAbstractTableModel;

    void setSnapshots(std::vector<io::HfCacheSnapshot> snapshots);
    const std::vector<io::HfCacheSnapshot>& snapshots() const { return rows_; }
    const io::HfCacheSnapshot* toSnapshot(const QModelIndex& index) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<io::HfCacheSnapshot> rows_;
};

// What to open for a snapshot: its folder, or its first .gguf file when it has no config.json.
QString openPathOf(const io::HfCacheSnapshot& s);
// "config.json + safetensors", "GGUF: model-q4.gguf", "config.json only (no weights)", ...
QString describeContents(const io::HfCacheSnapshot& s);

} // namespace qs::ui
