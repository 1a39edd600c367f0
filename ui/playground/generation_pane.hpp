#pragma once
// One side of the playground: a title, the streamed text (prompt in grey, generated text after
// it) and a status line (stage while preparing, then tokens and tokens/s).
#include <QWidget>

class QLabel;
class QPlainTextEdit;

namespace qs::ui {

class GenerationPane : public QWidget {
    Q_OBJECT
public:
    GenerationPane(const QString& objectName, const QString& title, QWidget* parent = nullptr);

    void setTitle(const QString& title);
    void start(const QString& prompt);           // clears and shows the prompt
    void appendText(const QString& delta, int tokens, double seconds);
    void finish(const QString& fullText, int tokens, double seconds); // the final decode
    void showStatus(const QString& status);

    QString generatedText() const { return generated_; }
    int tokenCount() const { return tokens_; }
    QString statusText() const;
    QPlainTextEdit* textView() const { return text_; }

private:
    void showRate(int tokens, double seconds);

    QLabel* title_;
    QPlainTextEdit* text_;
    QLabel* status_;
    QString prompt_;
    QString generated_;
    int tokens_ = 0;
};

// "24 tokens · 153.2 tokens/s"
QString formatTokenRate(int tokens, double seconds);

} // namespace qs::ui
