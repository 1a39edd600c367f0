#include "ui/settings/recent_models.hpp"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace qs::ui {

namespace {
const QString kKey = QStringLiteral("recentModels");
}

QStringList RecentModels::load()
{
    QStringList list = QSettings().value(kKey).toStringList();
    list.removeAll(QString());
    list.removeDuplicates();
    while (list.size() > kMaxEntries)
        list.removeLast();
    return list;
}

QStringList RecentModels::add(const QString& spec)
{
    const QString entry = normalize(spec);
    QStringList list = load();
    list.removeAll(entry);
    list.prepend(entry);
    while (list.size() > kMaxEntries)
        list.removeLast();
    QSettings().setValue(kKey, list);
    return list;
}

void RecentModels::clear() { QSettings().remove(kKey); }

QString RecentModels::normalize(const QString& spec)
{
    const QFileInfo info(spec);
    if (spec != QLatin1String("demo") && info.exists())
        return QDir::cleanPath(info.absoluteFilePath());
    return spec;
}

} // namespace qs::ui
