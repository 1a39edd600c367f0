#pragma once
// Logging for the GUI: spdlog's default logger gets a console sink, a rotating file sink
// (5 MB x 3) in the app data folder, and a sink that forwards lines to the log dock.
#include <QObject>
#include <QString>

namespace qs::ui {

// <AppDataLocation>/logs/quantscope.log (honours QStandardPaths test mode).
QString logFilePath();

// Installs the sinks on spdlog's default logger; returns the log file path, or an empty
// string when the file could not be opened (logging then goes to the console only).
// Call after QCoreApplication's organization and application names are set.
QString setupLogging();

// Carries formatted log lines from any thread to widgets (queued when crossing threads).
class LogRelay : public QObject {
    Q_OBJECT
signals:
    void messageLogged(int spdlogLevel, const QString& line);
};

LogRelay* logRelay();

} // namespace qs::ui
