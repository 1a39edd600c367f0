#pragma once
// The generation playground: one prompt through the original model and a quantized copy,
// streamed side by side token by token. Each side runs on its own JobRunner (worker thread):
// the original loads once per model, the quantized copy once per method setting (both are
// kept for the next prompt); tokens come back as queued calls tagged with the run, so a
// cancelled or superseded run never writes into the panes.
#include "ui/loading/model_loader.hpp"
#include "ui/playground/playground_job.hpp"
#include "ui/playground/playground_settings.hpp"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace qs::ui {

class GenerationPane;
class JobRunner;

class PlaygroundView : public QWidget {
    Q_OBJECT
public:
    enum Side { Original = 0, Quantized = 1 };

    explicit PlaygroundView(QWidget* parent = nullptr);
    ~PlaygroundView() override;

    void setModel(ModelPtr model);
    PlaygroundSettings settings() const;
    void setSettings(const PlaygroundSettings& s);

    void generate();   // with settings(); cancels a run in flight first
    void cancel();
    bool isRunning() const;

    GenerationPane* pane(Side side) const { return panes_[side]; }
    QPushButton* generateButton() const { return generate_; }
    QPushButton* cancelButton() const { return cancel_; }

signals:
    void generationFinished();           // both sides done
    void generationCancelled();
    void generationFailed(const QString& message);

private:
    struct Prepared {
        TransformerPtr transformer;
        std::string key;                 // QuantConfig::describe() + preset; empty for the original
    };
    void startSide(Side side, const PlaygroundSettings& s);
    void onPrepared(quint64 run, Side side, const Prepared& p);
    void onText(quint64 run, Side side, const QString& delta, int tokens, double seconds);
    void onSideDone(Side side, int outcome, const QString& message);
    void updateButtons();
    QString quantizedTitle(const PlaygroundSettings& s) const;

    ModelPtr model_;
    Prepared cache_[2];
    JobRunner* runners_[2];
    GenerationPane* panes_[2];
    int outcome_[2] = {0, 0};            // 0 running/idle, 1 succeeded, 2 failed, 3 cancelled
    bool busy_[2] = {false, false};
    QString failure_;
    quint64 run_ = 0;

    QPlainTextEdit* prompt_;
    QComboBox* method_;
    QSpinBox* bits_;
    QComboBox* group_;
    QComboBox* preset_;
    QSpinBox* maxTokens_;
    QDoubleSpinBox* temperature_;
    QDoubleSpinBox* topP_;
    QSpinBox* seed_;
    QPushButton* generate_;
    QPushButton* cancel_;
};

} // namespace qs::ui
