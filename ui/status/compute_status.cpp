#include "ui/status/compute_status.hpp"

#include "core/compute/vulkan/vulkan_backend.hpp"
#include "ui/jobs/job_runner.hpp"

#include <spdlog/spdlog.h>

namespace qs::ui {

ComputeProbeResult probeComputeDevices()
{
    ComputeProbeResult r;
    try {
        const compute::VulkanDeviceList list = compute::listVulkanDevices();
        r.deviceCount = int(list.devices.size());
        for (const auto& d : list.devices)
            if (d.selected) {
                r.gpuName = d.name;
                r.gpuType = d.type;
            }
        if (r.gpuName.empty())
            r.why = !list.error.empty() ? list.error
                  : list.devices.empty() ? std::string("no Vulkan device")
                                         : std::string("no device with Vulkan 1.2 compute");
    } catch (const std::exception& e) {
        r.why = e.what();
    }
    return r;
}

QString computeStatusText(const ComputeProbeResult& probe, bool gpuRequested)
{
    const QString gpu = QString::fromStdString(probe.gpuName);
    if (gpu.isEmpty())
        return QObject::tr("Compute: CPU (Eigen)");
    if (gpuRequested)
        return QObject::tr("Compute: %1 (Vulkan)").arg(gpu);
    return QObject::tr("Compute: CPU (Eigen) \u00b7 GPU available: %1").arg(gpu);
}

ComputeStatusLabel::ComputeStatusLabel(QWidget* parent)
    : QLabel(parent), runner_(new JobRunner(QStringLiteral("Compute probe"), this))
{
    setObjectName(QStringLiteral("computeLabel"));
    setText(tr("Compute: probing\u2026"));
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        probe_ = std::any_cast<ComputeProbeResult>(r);
        probing_ = false;
        spdlog::info("compute: {}", probe_.gpuName.empty() ? "no GPU (" + probe_.why + "), CPU (Eigen)"
                                                           : "GPU " + probe_.gpuName + " (" + probe_.gpuType + ")");
        if (!runShown_)
            refresh();
        emit probed();
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        probe_.why = message.toStdString();
        probing_ = false;
        refresh();
        emit probed();
    });
    runner_->start(tr("compute probe"), [](JobContext&) -> JobResult { return probeComputeDevices(); });
}

ComputeStatusLabel::~ComputeStatusLabel() = default;

void ComputeStatusLabel::setGpuRequested(bool requested)
{
    gpuRequested_ = requested;
    runShown_ = false;
    refresh();
}

void ComputeStatusLabel::showRunBackend(const QString& backendName)
{
    runShown_ = true;
    setText(tr("Compute: %1").arg(backendName));
}

void ComputeStatusLabel::refresh()
{
    if (probing_)
        return;
    setText(computeStatusText(probe_, gpuRequested_));
    setToolTip(probe_.gpuName.empty()
                   ? tr("No GPU for compute: %1").arg(QString::fromStdString(probe_.why))
                   : tr("Vulkan device: %1 (%2). Runs use it when \u201cuse the GPU\u201d is ticked in the run panel.")
                         .arg(QString::fromStdString(probe_.gpuName), QString::fromStdString(probe_.gpuType)));
}

} // namespace qs::ui
