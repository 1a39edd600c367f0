#include "ui/playground/generation_pane.hpp"

#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QVBoxLayout>

namespace qs::ui {

QString formatTokenRate(int tokens, double seconds)
{
    const double rate = seconds > 0 ? tokens / seconds : 0.0;
    return QObject::tr("%1 tokens \u00b7 %2 tokens/s").arg(tokens).arg(rate, 0, 'f', 1);
}

GenerationPane::GenerationPane(const QString& objectName, const QString& title, QWidget* parent)
    : QWidget(parent), title_(new QLabel(title, this)), text_(new QPlainTextEdit(this)), status_(new QLabel(this))
{
    setObjectName(objectName);
    title_->setObjectName(objectName + QStringLiteral("Title"));
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    text_->setObjectName(objectName + QStringLiteral("Text"));
    text_->setReadOnly(true);
    text_->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    status_->setObjectName(objectName + QStringLiteral("Status"));
    status_->setText(tr("Idle"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(title_);
    layout->addWidget(text_, 1);
    layout->addWidget(status_);
}

void GenerationPane::setTitle(const QString& title) { title_->setText(title); }

QString GenerationPane::statusText() const { return status_->text(); }

void GenerationPane::start(const QString& prompt)
{
    prompt_ = prompt;
    generated_.clear();
    tokens_ = 0;
    text_->clear();
    QTextCharFormat grey;
    grey.setForeground(palette().color(QPalette::Disabled, QPalette::Text));
    QTextCursor c(text_->document());
    c.insertText(prompt, grey);
    status_->setText(tr("Waiting\u2026"));
}

void GenerationPane::appendText(const QString& delta, int tokens, double seconds)
{
    generated_ += delta;
    tokens_ = tokens;
    if (!delta.isEmpty()) {
        QTextCursor c(text_->document());
        c.movePosition(QTextCursor::End);
        c.insertText(delta, QTextCharFormat());
        text_->verticalScrollBar()->setValue(text_->verticalScrollBar()->maximum());
    }
    showRate(tokens, seconds);
}

void GenerationPane::finish(const QString& fullText, int tokens, double seconds)
{
    if (fullText != generated_) { // the last token completed or changed a character: redraw
        start(prompt_);
        appendText(fullText, tokens, seconds);
    }
    tokens_ = tokens;
    showRate(tokens, seconds);
}

void GenerationPane::showStatus(const QString& status) { status_->setText(status); }

void GenerationPane::showRate(int tokens, double seconds) { status_->setText(formatTokenRate(tokens, seconds)); }

} // namespace qs::ui
