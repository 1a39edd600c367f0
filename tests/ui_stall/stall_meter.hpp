#pragma once
// Records the longest gap between ticks of a 5 ms timer (how long the event loop was blocked)
// and what the window was doing then: the label set by note() before the gap; and how much CPU
// the GUI thread used between ticks (CLOCK_THREAD_CPUTIME_ID), which tells computing from waiting.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include <algorithm>
#include <ctime>

namespace qs::test {

class StallMeter : public QObject {
public:
    StallMeter()
    {
        timer_.setInterval(5);
        timer_.setTimerType(Qt::PreciseTimer);
        connect(&timer_, &QTimer::timeout, this, [this] {
            const qint64 ns = clock_.nsecsElapsed();
            const qint64 cpu = threadCpuNs();
            if (ns - last_ > worst_) {
                worst_ = ns - last_;
                worstCpu_ = cpu - lastCpu_;
                worstDuring_ = during_;
            }
            worstBusy_ = std::max(worstBusy_, cpu - lastCpu_);
            if (ns - last_ > 50'000'000)
                ++over50_;
            last_ = ns;
            lastCpu_ = cpu;
        });
        clock_.start();
        lastCpu_ = threadCpuNs();
        timer_.start();
    }
    void note(const QString& what) { during_ = what; }
    double worstMs() const { return double(worst_) / 1e6; }
    // CPU time the GUI thread itself used during the longest gap: small when the gap was the
    // scheduler running other threads (a loaded machine), large when the GUI thread computed.
    double worstGapCpuMs() const { return double(worstCpu_) / 1e6; }
    double worstBusyMs() const { return double(worstBusy_) / 1e6; } // the most CPU between two ticks
    QString worstDuring() const { return worstDuring_; }
    int gapsOver50Ms() const { return over50_; }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    static qint64 threadCpuNs()
    {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return qint64(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
    }

    qint64 last_ = 0, worst_ = 0, lastCpu_ = 0, worstCpu_ = 0, worstBusy_ = 0;
    int over50_ = 0;
    QString during_, worstDuring_;
};

} // namespace qs::test
