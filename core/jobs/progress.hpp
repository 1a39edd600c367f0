#pragma once
// Long work reports progress (stage, fraction, ETA) and can be cancelled at any point. The GUI
// and the CLI drive the same core functions through this one small contract.
#include "core/util/error.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace qs::jobs {

class Cancelled : public qs::Error {
public:
    Cancelled() : qs::Error("cancelled") {}
};

struct ProgressUpdate {
    std::string stage;      // "perplexity", "calibrating block 3", ...
    double fraction = 0.0;  // 0..1 within the stage
    double etaSeconds = -1; // < 0 when unknown
};

class Progress {
public:
    using Callback = std::function<void(const ProgressUpdate&)>;

    Progress() = default;
    Progress(Callback cb, const std::atomic<bool>* cancelFlag) : cb_(std::move(cb)), cancel_(cancelFlag) {}

    void beginStage(std::string stage)
    {
        stage_ = std::move(stage);
        start_ = std::chrono::steady_clock::now();
        report(0.0);
    }

    // Reports the fraction done and throws Cancelled when cancellation was requested.
    void report(double fraction)
    {
        checkCancelled();
        if (!cb_)
            return;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        const double eta = fraction > 0.01 ? elapsed * (1.0 - fraction) / fraction : -1.0;
        cb_({stage_, fraction, eta});
    }

    void checkCancelled() const
    {
        if (cancel_ && cancel_->load(std::memory_order_relaxed))
            throw Cancelled();
    }

private:
    Callback cb_;
    const std::atomic<bool>* cancel_ = nullptr;
    std::string stage_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace qs::jobs
