#pragma once
// Opening the shipped demo model (resources/demo-model) in a MainWindow for the analysis suites.
#include "window_test_support.hpp"
#include "ui/windows/main_window.hpp"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest/QtTest>

namespace qs::test {

inline void isolateSettings(const char* app)
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
    QCoreApplication::setApplicationName(QString::fromLatin1(app));
}

inline QString demoModelDir() { return QStringLiteral(QS_SOURCE_DIR "/resources/demo-model"); }

// Opens the demo model and waits for it; false on failure or timeout.
inline bool openDemo(ui::MainWindow& w)
{
    QSignalSpy opened(&w, &ui::MainWindow::modelOpened);
    w.openModel(demoModelDir());
    return opened.wait(kWaitMs);
}

} // namespace qs::test
