#pragma once
// The export dialog (opened from the compare view): the method (one of the compared ones, or
// the original weights), the format, the GGUF type and the target; Export runs the export job
// on a worker (ui/jobs/job_runner) with progress and Cancel; the outcome and the export's notes
// (verification, requantization error) are shown when it ends.
#include "core/export/export.hpp"
#include "core/quant/quant_config.hpp"

#include <QDialog>

#include <memory>
#include <optional>
#include <string>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace qs::model {
struct Model;
}

namespace qs::ui {

class JobRunner;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(std::shared_ptr<const model::Model> model, std::vector<quant::QuantConfig> methods,
                 std::string calibrationPreset, bool preferGpu, QWidget* parent = nullptr);
    ~ExportDialog() override;

    JobRunner* runner() const { return runner_; }
    bool isExporting() const;
    const std::optional<exporting::ExportResult>& lastResult() const { return result_; }

signals:
    void exportFinished(bool succeeded);

protected:
    void reject() override; // Close cancels an export in flight first

private:
    void startExport();
    void updateForFormat();
    void browse();
    void setRunning(bool running);

    std::shared_ptr<const model::Model> model_;
    std::vector<quant::QuantConfig> methods_;
    std::string calibrationPreset_;
    bool preferGpu_;
    JobRunner* runner_;
    std::optional<exporting::ExportResult> result_;

    QComboBox* method_;
    QComboBox* format_;
    QComboBox* type_;
    QLineEdit* path_;
    QPushButton* browse_;
    QPushButton* export_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    QPlainTextEdit* notes_;
};

} // namespace qs::ui
