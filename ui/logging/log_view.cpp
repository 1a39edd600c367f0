#include "ui/logging/log_view.hpp"

#include "ui/logging/app_logging.hpp"

#include <QFontDatabase>

#include <spdlog/common.h>

namespace qs::ui {

LogView::LogView(QWidget* parent) : QPlainTextEdit(parent)
{
    setObjectName(QStringLiteral("logView"));
    setReadOnly(true);
    setMaximumBlockCount(5000); // a long session must not grow without bound
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    connect(logRelay(), &LogRelay::messageLogged, this, &LogView::appendLine);
}

void LogView::appendLine(int spdlogLevel, const QString& line)
{
    // Every line as HTML with its own style, so one red error never tints the next lines.
    QString style = QStringLiteral("white-space:pre");
    if (spdlogLevel >= spdlog::level::err)
        style += QStringLiteral("; color:#c0392b");
    else if (spdlogLevel == spdlog::level::warn)
        style += QStringLiteral("; color:#b9770e");
    appendHtml(QStringLiteral("<span style=\"%1\">%2</span>").arg(style, line.toHtmlEscaped()));
}

} // namespace qs::ui
