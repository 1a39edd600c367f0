#pragma once
// The most recently opened models, newest first, remembered in QSettings.
#include <QStringList>

namespace qs::ui {

class RecentModels {
public:
    static constexpr int kMaxEntries = 8;

    static QStringList load();
    // Moves `spec` to the front (no duplicates), keeps at most kMaxEntries, and saves.
    static QStringList add(const QString& spec);
    static void clear();

    // What a user typed, made stable for the list: paths become absolute and clean;
    // "demo" and repo ids stay as they are.
    static QString normalize(const QString& spec);
};

} // namespace qs::ui
