#pragma once
// Records the longest gap between ticks of a 5 ms timer (how long the event loop was blocked)
// and what the window was doing then: the label set by note() before the gap.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

namespace qs::test {

class StallMeter : public QObject {
public:
    StallMeter()
    {
        timer_.setInterval(5);
        timer_.setTimerType(Qt::PreciseTimer);
        connect(&timer_, &QTimer::timeout, this, [this] {
            const qint64 ns = clock_.nsecsElapsed();
            if (ns - last_ > worst_) {
                worst_ = ns - last_;
                worstDuring_ = during_;
            }
            if (ns - last_ > 50'000'000)
                ++over50_;
            last_ = ns;
        });
        clock_.start();
        timer_.start();
    }
    void note(const QString& what) { during_ = what; }
    double worstMs() const { return double(worst_) / 1e6; }
    QString worstDuring() const { return worstDuring_; }
    int gapsOver50Ms() const { return over50_; }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = 0, worst_ = 0;
    int over50_ = 0;
    QString during_, worstDuring_;
};

} // namespace qs::test
