#pragma once
// Runs core job functions on a worker QThread and hands everything back by queued signals:
// progress (stage, fraction, ETA, throttled so a chatty job cannot flood the event loop), the
// result, the error message, or the fact that it was cancelled. Cancelling sets the job's
// atomic flag, which the core job checks through jobs::Progress (requestInterruption style).
// One job at a time per runner: starting a job cancels the one in flight, whose late outcome
// is dropped, so a view always shows the newest request.
#include "core/jobs/progress.hpp"

#include <QObject>
#include <QString>
#include <QThread>

#include <any>
#include <atomic>
#include <functional>
#include <memory>

namespace qs::ui {

// What a job returns: anything copyable (wrap big or move-only results in a shared_ptr).
using JobResult = std::any;

// What a running job sees: a Progress to hand to core calls, and more of them with a prefix on
// their stage names ("[2/5] gptq: calibrating block 3"), all sharing the cancel flag and the
// throttle.
class JobContext {
public:
    using Sink = std::function<void(const jobs::ProgressUpdate&)>;
    JobContext(Sink sink, const std::atomic<bool>* cancelFlag);
    jobs::Progress& progress() { return progress_; }
    jobs::Progress makeProgress(const std::string& stagePrefix) const;
    bool isCancelled() const { return cancel_->load(std::memory_order_relaxed); }

private:
    Sink sink_;
    const std::atomic<bool>* cancel_;
    jobs::Progress progress_;
};

using JobFunction = std::function<JobResult(JobContext&)>;

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(const QString& threadName, QObject* parent = nullptr);
    ~JobRunner() override; // cancels the job in flight and waits for the worker

    // Queues fn on the worker; returns the job's id. A job in flight is cancelled first.
    quint64 start(const QString& name, JobFunction fn);
    void cancel();              // no-op when idle; the job stops at its next progress check
    bool isRunning() const { return running_ != 0; }
    quint64 currentJob() const { return current_; }

    // Minimum gap between two progress signals of the same stage (a new stage always goes out).
    void setProgressInterval(int ms) { progressIntervalMs_ = ms; }

signals:
    void started(quint64 job, const QString& name);
    void progressed(quint64 job, const QString& stage, double fraction, double etaSeconds);
    void succeeded(quint64 job, const qs::ui::JobResult& result);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);
    void idle(); // after the current job's outcome was delivered (or dropped)

    // Internal: carries work to the worker thread.
    void requestRun(quint64 job, const QString& name, std::shared_ptr<qs::ui::JobFunction> fn,
                    std::shared_ptr<std::atomic<bool>> cancelFlag, int progressIntervalMs);

private:
    void onProgress(quint64 job, const QString& stage, double fraction, double eta);
    void onFinished(quint64 job, int outcome, const qs::ui::JobResult& result, const QString& message);

    QThread thread_;
    quint64 lastJob_ = 0;
    quint64 current_ = 0;
    int running_ = 0; // jobs queued or running on the worker, superseded ones included
    std::shared_ptr<std::atomic<bool>> cancelFlag_;
    int progressIntervalMs_ = 50;
};

// Lives on the runner's thread and runs the job functions.
class JobWorker : public QObject {
    Q_OBJECT
public:
    enum Outcome { Succeeded, Failed, Cancelled };
    void run(quint64 job, const QString& name, std::shared_ptr<qs::ui::JobFunction> fn,
             std::shared_ptr<std::atomic<bool>> cancelFlag, int progressIntervalMs);

signals:
    void progressed(quint64 job, const QString& stage, double fraction, double etaSeconds);
    void finished(quint64 job, int outcome, const qs::ui::JobResult& result, const QString& message);
};

} // namespace qs::ui

Q_DECLARE_METATYPE(qs::ui::JobResult)
Q_DECLARE_METATYPE(std::shared_ptr<qs::ui::JobFunction>)
Q_DECLARE_METATYPE(std::shared_ptr<std::atomic<bool>>)
