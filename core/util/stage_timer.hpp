#pragma once
// Wall time per named stage of the forward pass and calibration (linears, attention, norms,
// transfers, statistics), summed over the whole process, for finding where the time goes.
// Off unless QS_PROFILE is set (non-empty, not "0"): a disabled StageTimer costs one branch.
// Thread-safe; meant for coarse stages (a mutex per record).
#include <string>

namespace qs::prof {

bool enabled();
void add(const char* stage, double seconds);
// One line per stage: total seconds, calls, share of `wallSeconds` (when > 0); sorted by time.
std::string report(double wallSeconds = 0);
void reset();

class StageTimer {
public:
    explicit StageTimer(const char* stage);
    ~StageTimer() { stop(); }
    void stop();  // records now (once)
    StageTimer(const StageTimer&) = delete;
    StageTimer& operator=(const StageTimer&) = delete;

private:
    const char* stage_;
    long long startNs_ = 0;  // 0: not timing
};

} // namespace qs::prof
