#pragma once
// The status bar's compute device: probed once on a worker at start-up (the Vulkan device list,
// no device is created), then shown as what a run would use: the GPU when the run panel asks
// for it and one works, else "CPU (Eigen)" with the GPU that is available named beside it.
// After a run, the backend the run really used.
#include <QLabel>

#include <string>

namespace qs::ui {

class JobRunner;

struct ComputeProbeResult {
    std::string gpuName;   // the device makeBackend(true) would pick; empty when none
    std::string gpuType;   // discrete, integrated, virtual, cpu
    std::string why;       // why there is no usable GPU
    int deviceCount = 0;
};

ComputeProbeResult probeComputeDevices(); // worker side; never throws
QString computeStatusText(const ComputeProbeResult& probe, bool gpuRequested);

class ComputeStatusLabel : public QLabel {
    Q_OBJECT
public:
    explicit ComputeStatusLabel(QWidget* parent = nullptr);
    ~ComputeStatusLabel() override;

    void setGpuRequested(bool requested);
    void showRunBackend(const QString& backendName); // what a finished run used
    bool isProbing() const { return probing_; }
    const ComputeProbeResult& probe() const { return probe_; }

signals:
    void probed();

private:
    void refresh();

    JobRunner* runner_;
    ComputeProbeResult probe_;
    bool probing_ = true;
    bool gpuRequested_ = false;
    bool runShown_ = false; // a run's backend is on show; the probe does not replace it
};

} // namespace qs::ui
