#pragma once
// A small pool of std::thread workers for the CPU's big products (dense GEMMs, attention heads,
// GPTQ rows). Workers sleep on a condition variable between jobs: no spin-waiting, so a busy
// shared machine is not slowed down the way OpenMP's spinning threads slowed it (13x).
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qs {

class ThreadPool {
public:
    // threads counts the caller: 1 runs everything on the caller's thread.
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threads() const { return int(workers_.size()) + 1; }

    // Calls fn(begin, end) on disjoint ranges covering [0, count), at least minChunk long (but
    // the last), at most one range per thread; the caller runs one of them. Returns when all are
    // done and rethrows the first exception. Called from inside a pool job, it runs inline.
    void parallelFor(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn,
                     std::int64_t minChunk = 1);

    // The process-wide pool: QS_THREADS when set (>= 1), else std::thread::hardware_concurrency.
    static ThreadPool& shared();

private:
    void workerLoop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges_; // one per worker, empty = none
    std::uint64_t generation_ = 0;
    int pending_ = 0;
    std::exception_ptr error_;
    bool stop_ = false;
    std::mutex callMutex_; // one parallelFor at a time from outside the pool
};

// memcpy split across the shared pool's threads: one core copies 5-10 GB/s (less where the
// source is a mapped file whose pages fault in one by one), under what PCIe or the page cache move.
void parallelCopy(void* dst, const void* src, std::uint64_t bytes);

// The thread count shared() uses: QS_THREADS (clamped to 1..256) or hardware_concurrency.
int configuredThreads();

} // namespace qs
