#include "ui/hfcache/hf_cache_model.hpp"

#include "ui/text/number_format.hpp"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QPalette>

#include <chrono>

namespace qs::ui {

namespace {

QDateTime toDateTime(std::filesystem::file_time_type t)
{
    if (t == std::filesystem::file_time_type{})
        return {};
    const auto sys = std::chrono::file_clock::to_sys(t);
    return QDateTime::fromMSecsSinceEpoch(
        std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count());
}

} // namespace

QString openPathOf(const io::HfCacheSnapshot& s)
{
    if (!(s.hasConfig && s.hasSafetensors) && !s.ggufFiles.empty())
        return QDir::cleanPath(QString::fromStdString((s.path / s.ggufFiles.front()).string()));
    return QDir::cleanPath(QString::fromStdString(s.path.string()));
}

QString describeContents(const io::HfCacheSnapshot& s)
{
    QStringList parts;
    if (s.hasConfig && s.hasSafetensors)
        parts << QObject::tr("config.json + safetensors");
    else if (s.hasConfig)
        parts << QObject::tr("config.json only (no weights)");
    else if (s.hasSafetensors)
        parts << QObject::tr("safetensors without config.json");
    if (s.ggufFiles.size() == 1)
        parts << QObject::tr("GGUF: %1").arg(QString::fromStdString(s.ggufFiles.front()));
    else if (!s.ggufFiles.empty())
        parts << QObject::tr("%1 GGUF files").arg(s.ggufFiles.size());
    if (s.brokenLinks)
        parts << QObject::tr("%n missing file(s)", nullptr, s.brokenLinks);
    if (parts.isEmpty())
        parts << QObject::tr("no model files");
    return parts.join(QStringLiteral("; "));
}

void HfCacheModel::setSnapshots(std::vector<io::HfCacheSnapshot> snapshots)
{
    beginResetModel();
    rows_ = std::move(snapshots);
    endResetModel();
}

const io::HfCacheSnapshot* HfCacheModel::toSnapshot(const QModelIndex& index) const
{
    if (!index.isValid() || index.model() != this || index.row() >= int(rows_.size()))
        return nullptr;
    return &rows_[std::size_t(index.row())];
}

int HfCacheModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

int HfCacheModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant HfCacheModel::data(const QModelIndex& index, int role) const
{
    const io::HfCacheSnapshot* s = toSnapshot(index);
    if (!s)
        return {};
    switch (role) {
    case OpenPathRole: return openPathOf(*s);
    case OpenableRole: return s->openable();
    case Qt::ForegroundRole:
        return s->openable() ? QVariant() : QVariant(QApplication::palette().color(QPalette::Disabled, QPalette::Text));
    case Qt::ToolTipRole: return QString::fromStdString(s->path.string());
    case Qt::TextAlignmentRole:
        return index.column() == SizeColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    default: break;
    }
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    switch (index.column()) {
    case RepoColumn: return QString::fromStdString(s->repoId);
    case RevisionColumn: {
        const QString rev = QString::fromStdString(s->revision).left(12);
        return s->isMain ? QObject::tr("%1 (main)").arg(rev) : rev;
    }
    case SizeColumn:
        return role == SortRole ? QVariant(qulonglong(s->bytes)) : QVariant(formatBytes(s->bytes));
    case ContentsColumn: return describeContents(*s);
    case ModifiedColumn: {
        const QDateTime t = toDateTime(s->modified);
        return role == SortRole ? QVariant(t) : QVariant(t.toString(QStringLiteral("yyyy-MM-dd hh:mm")));
    }
    default: return {};
    }
}

QVariant HfCacheModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RepoColumn: return tr("Repository");
    case RevisionColumn: return tr("Revision");
    case SizeColumn: return tr("Size");
    case ContentsColumn: return tr("Contents");
    case ModifiedColumn: return tr("Modified");
    default: return {};
    }
}

} // namespace qs::ui
