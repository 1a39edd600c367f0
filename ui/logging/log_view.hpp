#pragma once
// The log as a read-only text view fed by the spdlog relay sink; lives in a dock.
#include <QPlainTextEdit>

namespace qs::ui {

class LogView : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit LogView(QWidget* parent = nullptr);

    void appendLine(int spdlogLevel, const QString& line);
};

} // namespace qs::ui
