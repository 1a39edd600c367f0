#pragma once
// The run panel: which methods to compare and their settings, the calibration preset and the
// evaluation windows; Run and Cancel; one progress bar for the current stage with time left.
// It only collects settings and shows progress: the owner runs the job.
#include "ui/compare/compare_settings.hpp"

#include <QWidget>

#include <map>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace qs::ui {

class RunPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunPanel(QWidget* parent = nullptr);

    CompareSettings settings() const;
    void setSettings(const CompareSettings& s);
    void setRunning(bool running);
    void showProgress(const QString& stage, double fraction, double etaSeconds);
    void showOutcome(const QString& message); // after a run: done, cancelled or failed
    void setModelReady(bool ready);           // Run needs an open model

    QPushButton* runButton() const { return run_; }
    QPushButton* cancelButton() const { return cancel_; }
    QProgressBar* progressBar() const { return progress_; }

signals:
    void runRequested(const qs::ui::CompareSettings& settings);
    void cancelRequested();

private:
    void updateRunEnabled();

    std::map<std::string, QCheckBox*> methods_;
    QSpinBox* bits_ = nullptr;
    QComboBox* group_ = nullptr;
    QDoubleSpinBox* alpha_ = nullptr;
    QDoubleSpinBox* damp_ = nullptr;
    QCheckBox* actOrder_ = nullptr;
    QCheckBox* awqClip_ = nullptr;
    QLineEdit* calibText_ = nullptr;
    QComboBox* preset_ = nullptr;
    QSpinBox* evalWindows_ = nullptr;
    QSpinBox* evalContext_ = nullptr;
    QCheckBox* gpu_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* stage_ = nullptr;
    QLabel* eta_ = nullptr;
    bool running_ = false;
    bool modelReady_ = false;
};

// "12 s left", "3 min 5 s left", "" when unknown.
QString formatTimeLeft(double seconds);

} // namespace qs::ui

Q_DECLARE_METATYPE(qs::ui::CompareSettings)
