#pragma once
// Tables to CSV (RFC 4180 quoting): what a view shows, in its current order and filter.
#include <QString>

class QAbstractItemModel;
class QWidget;

namespace qs::ui {

bool writeCsv(const QAbstractItemModel& model, const QString& file);
// Asks for a file name (remembering the folder) and writes; false when cancelled or failed.
bool exportCsvWithDialog(const QAbstractItemModel& model, QWidget* parent, const QString& suggestedName);

} // namespace qs::ui
