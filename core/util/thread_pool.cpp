#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace qs {

namespace {
thread_local bool tInsidePoolJob = false;
}

int configuredThreads()
{
    if (const char* env = std::getenv("QS_THREADS")) {
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 1)
            return int(std::min<long>(v, 256));
    }
    return int(std::max(1u, std::thread::hardware_concurrency()));
}

ThreadPool& ThreadPool::shared()
{
    static ThreadPool pool(configuredThreads());
    return pool;
}

ThreadPool::ThreadPool(int threads)
{
    const int workers = std::max(0, threads - 1);
    ranges_.assign(std::size_t(workers), {0, 0});
    for (int i = 0; i < workers; ++i)
        workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void ThreadPool::workerLoop(int index)
{
    std::uint64_t seen = 0;
    for (;;) {
        std::pair<std::int64_t, std::int64_t> range;
        const std::function<void(std::int64_t, std::int64_t)>* job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_)
                return;
            seen = generation_;
            range = ranges_[std::size_t(index)];
            job = job_;
        }
        if (range.second > range.first) {
            tInsidePoolJob = true;
            try {
                (*job)(range.first, range.second);
            } catch (...) {
                std::lock_guard lock(mutex_);
                if (!error_)
                    error_ = std::current_exception();
            }
            tInsidePoolJob = false;
        }
        {
            std::lock_guard lock(mutex_);
            if (--pending_ == 0)
                done_.notify_all();
        }
    }
}

void ThreadPool::parallelFor(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn,
                             std::int64_t minChunk)
{
    if (count <= 0)
        return;
    const std::int64_t chunk = std::max<std::int64_t>(minChunk, 1);
    const std::int64_t parts = std::min<std::int64_t>(threads(), (count + chunk - 1) / chunk);
    if (parts <= 1 || tInsidePoolJob || workers_.empty()) {
        fn(0, count);
        return;
    }
    std::lock_guard call(callMutex_);
    const std::int64_t per = (count + parts - 1) / parts;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < ranges_.size(); ++i) {
            const std::int64_t b = std::min(count, std::int64_t(i + 1) * per);
            ranges_[i] = {b, std::min(count, b + per)};
        }
        job_ = &fn;
        error_ = nullptr;
        pending_ = int(workers_.size());
        ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr mine;
    tInsidePoolJob = true;
    try {
        fn(0, std::min(count, per)); // the caller takes the first range
    } catch (...) {
        mine = std::current_exception();
    }
    tInsidePoolJob = false;
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (mine)
        std::rethrow_exception(mine);
    if (error_)
        std::rethrow_exception(std::exchange(error_, nullptr));
}

void parallelCopy(void* dst, const void* src, std::uint64_t bytes)
{
    constexpr std::uint64_t kPiece = 1ull << 20;
    if (bytes < 4 * kPiece) {
        std::memcpy(dst, src, bytes);
        return;
    }
    auto* d = static_cast<std::uint8_t*>(dst);
    const auto* s = static_cast<const std::uint8_t*>(src);
    ThreadPool::shared().parallelFor(std::int64_t((bytes + kPiece - 1) / kPiece), [&](std::int64_t a, std::int64_t b) {
        const std::uint64_t from = std::uint64_t(a) * kPiece, to = std::min(std::uint64_t(b) * kPiece, bytes);
        std::memcpy(d + from, s + from, to - from);
    });
}

} // namespace qs
