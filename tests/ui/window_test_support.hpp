#pragma once
// Small helpers shared by the main-window suites.
#include <QLabel>
#include <QString>
#include <QWidget>

namespace qs::test {

// Opening a tiny model takes milliseconds; this only guards against a hang.
constexpr int kWaitMs = 30000;  // generous: under ctest -j2 on 2 loaded cores an open can take seconds

// The text of the QLabel child called objectName, or a marker that makes comparisons fail
// with a readable message when there is no such label.
inline QString labelText(const QWidget& w, const char* objectName)
{
    const auto* l = w.findChild<QLabel*>(QString::fromLatin1(objectName));
    return l ? l->text() : QStringLiteral("<no label %1>").arg(QLatin1String(objectName));
}

} // namespace qs::test
