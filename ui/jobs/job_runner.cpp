#include "ui/jobs/job_runner.hpp"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <spdlog/spdlog.h>

namespace qs::ui {

JobContext::JobContext(Sink sink, const std::atomic<bool>* cancelFlag)
    : sink_(std::move(sink)), cancel_(cancelFlag), progress_(sink_, cancelFlag)
{
}

jobs::Progress JobContext::makeProgress(const std::string& stagePrefix) const
{
    return jobs::Progress(
        [sink = sink_, stagePrefix](const jobs::ProgressUpdate& u) {
            sink({stagePrefix + u.stage, u.fraction, u.etaSeconds});
        },
        cancel_);
}

JobRunner::JobRunner(const QString& threadName, QObject* parent) : QObject(parent)
{
    qRegisterMetaType<qs::ui::JobResult>("qs::ui::JobResult");
    qRegisterMetaType<std::shared_ptr<qs::ui::JobFunction>>("std::shared_ptr<qs::ui::JobFunction>");
    qRegisterMetaType<std::shared_ptr<std::atomic<bool>>>("std::shared_ptr<std::atomic<bool>>");
    thread_.setObjectName(threadName);
    auto* worker = new JobWorker;
    worker->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker, &QObject::deleteLater);
    connect(this, &JobRunner::requestRun, worker, &JobWorker::run, Qt::QueuedConnection);
    connect(worker, &JobWorker::progressed, this, &JobRunner::onProgress, Qt::QueuedConnection);
    connect(worker, &JobWorker::finished, this, &JobRunner::onFinished, Qt::QueuedConnection);
    thread_.start(QThread::LowPriority); // the GUI thread wins the cores when both want them
}

JobRunner::~JobRunner()
{
    cancel();
    thread_.requestInterruption();
    thread_.quit();
    thread_.wait();
}

quint64 JobRunner::start(const QString& name, JobFunction fn)
{
    cancel();
    const quint64 id = ++lastJob_;
    current_ = id;
    ++running_;
    cancelFlag_ = std::make_shared<std::atomic<bool>>(false);
    emit started(id, name);
    emit requestRun(id, name, std::make_shared<JobFunction>(std::move(fn)), cancelFlag_, progressIntervalMs_);
    return id;
}

void JobRunner::cancel()
{
    if (cancelFlag_)
        cancelFlag_->store(true, std::memory_order_relaxed);
}

void JobRunner::onProgress(quint64 job, const QString& stage, double fraction, double eta)
{
    if (job == current_ && !(cancelFlag_ && cancelFlag_->load()))
        emit progressed(job, stage, fraction, eta);
}

void JobRunner::onFinished(quint64 job, int outcome, const JobResult& result, const QString& message)
{
    --running_;
    if (job != current_)
        return; // superseded: a newer job owns the views
    current_ = 0;
    cancelFlag_.reset();
    switch (outcome) {
    case JobWorker::Succeeded: emit succeeded(job, result); break;
    case JobWorker::Failed: emit failed(job, message); break;
    default: emit cancelled(job); break;
    }
    emit idle();
}

void JobWorker::run(quint64 job, const QString& name, std::shared_ptr<JobFunction> fn,
                    std::shared_ptr<std::atomic<bool>> cancelFlag, int progressIntervalMs)
{
    Q_ASSERT(QThread::currentThread() != QCoreApplication::instance()->thread());
    if (cancelFlag->load()) { // superseded before it began
        emit finished(job, Cancelled, {}, {});
        return;
    }
    QElapsedTimer sinceEmit;
    sinceEmit.start();
    std::string lastStage;
    JobContext context(
        [&](const jobs::ProgressUpdate& u) {
            // Throttled: every stage change, the end of a stage, and otherwise one per interval.
            const bool newStage = u.stage != lastStage;
            if (!newStage && u.fraction < 1.0 && sinceEmit.elapsed() < progressIntervalMs)
                return;
            lastStage = u.stage;
            sinceEmit.restart();
            emit progressed(job, QString::fromStdString(u.stage), u.fraction, u.etaSeconds);
        },
        cancelFlag.get());
    QElapsedTimer timer;
    timer.start();
    try {
        JobResult result = (*fn)(context);
        spdlog::info("job '{}' finished in {:.2f} s", name.toStdString(), double(timer.elapsed()) / 1000.0);
        emit finished(job, Succeeded, result, {});
    } catch (const jobs::Cancelled&) {
        spdlog::info("job '{}' cancelled after {:.2f} s", name.toStdString(), double(timer.elapsed()) / 1000.0);
        emit finished(job, Cancelled, {}, {});
    } catch (const std::exception& e) {
        spdlog::error("job '{}' failed: {}", name.toStdString(), e.what());
        emit finished(job, Failed, {}, QString::fromUtf8(e.what()).simplified());
    } catch (...) {
        emit finished(job, Failed, {}, tr("unknown error"));
    }
}

} // namespace qs::ui
