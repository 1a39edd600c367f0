#include "ui/export/csv_export.hpp"

#include <QAbstractItemModel>
#include <QFileDialog>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QTextStream>

#include <spdlog/spdlog.h>

namespace qs::ui {

namespace {

QString csvField(QString s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + s.replace(QLatin1String("\""), QLatin1String("\"\"")) + QLatin1Char('"');
    return s;
}

} // namespace

bool writeCsv(const QAbstractItemModel& model, const QString& file)
{
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream ts(&out);
    QStringList fields;
    for (int c = 0; c < model.columnCount(); ++c)
        fields << csvField(model.headerData(c, Qt::Horizontal).toString());
    ts << fields.join(QLatin1Char(',')) << '\n';
    for (int r = 0; r < model.rowCount(); ++r) {
        fields.clear();
        for (int c = 0; c < model.columnCount(); ++c) {
            // Exact values where the view rounds: a tooltip-free, full-precision EditRole first.
            const QModelIndex i = model.index(r, c);
            const QVariant exact = i.data(Qt::EditRole);
            fields << csvField(exact.isValid() ? exact.toString() : i.data().toString());
        }
        ts << fields.join(QLatin1Char(',')) << '\n';
    }
    ts.flush();
    const bool ok = out.commit();
    if (ok)
        spdlog::info("table saved to {}", file.toStdString());
    return ok;
}

bool exportCsvWithDialog(const QAbstractItemModel& model, QWidget* parent, const QString& suggestedName)
{
    const QString dir = QSettings().value(QStringLiteral("lastExportDir")).toString();
    const QString file = QFileDialog::getSaveFileName(parent, QObject::tr("Export Table"),
                                                      dir + QLatin1Char('/') + suggestedName,
                                                      QObject::tr("CSV (*.csv)"));
    if (file.isEmpty())
        return false;
    QSettings().setValue(QStringLiteral("lastExportDir"), QFileInfo(file).absolutePath());
    return writeCsv(model, file);
}

} // namespace qs::ui
