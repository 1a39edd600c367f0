#pragma once
// The activation inspector: a calibration run through the unquantized model (on a worker)
// gives every linear's input statistics; for the selected linear it shows per-channel absmax
// and mean |x| with outlier channels marked, and an alpha slider showing live how SmoothQuant's
// s moves range from the activations into the weights. The O(channels) preview follows the
// slider on the GUI thread; the int8 errors (O(rows x N x K)) run on a second worker.
#include "core/analysis/smoothing_preview.hpp"
#include "ui/activations/activation_job.hpp"
#include "ui/loading/model_loader.hpp"

#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSlider;

namespace qs::ui {

class JobRunner;

class ActivationInspector : public QWidget {
    Q_OBJECT
public:
    explicit ActivationInspector(QWidget* parent = nullptr);
    ~ActivationInspector() override = default;

    void setModel(ModelPtr model);
    void startCalibration(const ActivationRunSettings& settings);
    void cancel();
    // Follows the main selection (runtime::LinearRole as int); ignored before calibration.
    void selectLinear(int block, int role);
    void setAlpha(float alpha); // moves the slider

    bool isBusy() const;
    const ActivationRun* run() const { return run_.get(); }
    int currentLinear() const { return current_; }
    const analysis::SmoothingPreview* preview() const { return preview_ ? &*preview_ : nullptr; }
    const analysis::OutlierChannels& outliers() const { return outliers_; }
    const LinearSmoothing* smoothing() const { return smoothing_.get(); }
    const std::optional<analysis::SmoothedInt8Error>& errorsAtAlpha() const { return errors_; }
    float alpha() const;

    QCustomPlot* channelPlot() const { return channelPlot_; }
    QCustomPlot* smoothingPlot() const { return smoothPlot_; }
    QCustomPlot* sweepPlot() const { return sweepPlot_; }
    QSlider* alphaSlider() const { return slider_; }
    QPushButton* runButton() const { return runButton_; }
    QComboBox* linearCombo() const { return linearCombo_; }

signals:
    void profileReady();
    void linearShown(int linear);     // channel plot and preview drawn
    void smoothingAnalysed(int linear); // weight read, sweep drawn
    void errorsUpdated(float alpha);  // errorsAtAlpha() holds the exact errors at alpha
    void failed(const QString& message);

private:
    void onProfile(std::shared_ptr<const ActivationRun> run);
    void showLinear(int index);
    void onAlphaMoved();
    void requestErrors();
    void showErrors();

    ModelPtr model_;
    JobRunner* calibRunner_;
    JobRunner* linearRunner_;
    std::shared_ptr<const ActivationRun> run_;
    std::shared_ptr<const LinearSmoothing> smoothing_;
    std::optional<analysis::SmoothingPreview> preview_;
    std::optional<analysis::SmoothedInt8Error> errors_;
    analysis::OutlierChannels outliers_;
    int current_ = -1;
    int wantBlock_ = -1, wantRole_ = 0; // the main selection, also before the profile exists
    bool errorsPending_ = false;

    QComboBox* presetCombo_ = nullptr;
    QComboBox* linearCombo_ = nullptr;
    QPushButton* runButton_ = nullptr;
    QPushButton* cancelButton_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* outlierNote_ = nullptr;
    QLabel* alphaLabel_ = nullptr;
    QLabel* rangeNote_ = nullptr;
    QLabel* errorNote_ = nullptr;
    QSlider* slider_ = nullptr;
    QCustomPlot* channelPlot_ = nullptr;
    QCustomPlot* smoothPlot_ = nullptr;
    QCustomPlot* sweepPlot_ = nullptr;
};

} // namespace qs::ui
