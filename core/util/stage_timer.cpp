#include "core/util/stage_timer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace qs::prof {

namespace {

struct Totals {
    double seconds = 0;
    long long calls = 0;
};

struct Registry {
    std::mutex mutex;
    std::map<std::string, Totals> stages;
};

Registry& registry()
{
    static Registry r;
    return r;
}

long long nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

bool enabled()
{
    static const bool on = [] {
        const char* v = std::getenv("QS_PROFILE");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return on;
}

void add(const char* stage, double seconds)
{
    if (!enabled())
        return;
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto& t = r.stages[stage];
    t.seconds += seconds;
    ++t.calls;
}

std::string report(double wallSeconds)
{
    auto& r = registry();
    std::vector<std::pair<std::string, Totals>> rows;
    {
        std::lock_guard lock(r.mutex);
        rows.assign(r.stages.begin(), r.stages.end());
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    std::string out;
    char line[256];
    for (const auto& [name, t] : rows) {
        if (wallSeconds > 0)
            std::snprintf(line, sizeof(line), "  %-28s %10.3f s %9lld calls %6.1f%%\n", name.c_str(), t.seconds, t.calls,
                          100.0 * t.seconds / wallSeconds);
        else
            std::snprintf(line, sizeof(line), "  %-28s %10.3f s %9lld calls\n", name.c_str(), t.seconds, t.calls);
        out += line;
    }
    return out;
}

void reset()
{
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.stages.clear();
}

StageTimer::StageTimer(const char* stage) : stage_(stage)
{
    if (enabled())
        startNs_ = nowNs();
}

void StageTimer::stop()
{
    if (startNs_)
        add(stage_, double(nowNs() - startNs_) * 1e-9);
    startNs_ = 0;
}

} // namespace qs::prof
