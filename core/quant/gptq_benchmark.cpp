#include "core/quant/gptq_benchmark.hpp"

#include "core/compute/backend.hpp"
#include "core/util/thread_pool.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <vector>

namespace qs::quant {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Eigen::MatrixXf randomNormal(int rows, int cols, std::mt19937_64& rng, float sd)
{
    std::normal_distribution<float> g(0.0f, sd);
    Eigen::MatrixXf m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = g(rng);
    return m;
}

// H = 2/n X^T X for X = (Z + G M) S: 64 shared latent factors correlate the channels and the
// channel scales S spread over 10x, as activations have outlier channels. X^T X is summed in
// column blocks over the pool.
Eigen::MatrixXd correlatedHessian(int k, int rows, std::mt19937_64& rng)
{
    Eigen::MatrixXf x = randomNormal(rows, k, rng, 1.0f) + randomNormal(rows, 64, rng, 1.0f) *
                                                               randomNormal(64, k, rng, 0.5f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (int c = 0; c < k; ++c)
        x.col(c) *= std::pow(10.0f, u(rng));
    Eigen::MatrixXf h(k, k);
    ThreadPool::shared().parallelFor(k, [&](std::int64_t b, std::int64_t e) {
        h.middleCols(b, e - b).noalias() = x.transpose() * x.middleCols(b, e - b);
    }, 64);
    return h.cast<double>() * (2.0 / rows);
}

} // namespace

GptqBenchReport runGptqBenchmark(const GptqBenchOptions& o, const std::function<void(const GptqBenchRow&)>& onRow)
{
    GptqBenchReport report;
    report.threads = ThreadPool::shared().threads();
    std::mt19937_64 rng(o.seed);
    if (o.gptq.productBackend) {
        // Pipelines are built on first use: build both tiles' before anything is timed.
        for (int size : {64, 2048}) {
            std::vector<float> a(std::size_t(size) * 16, 1.0f), c(std::size_t(size) * std::size_t(size));
            o.gptq.productBackend->gemmF32(a.data(), size, 16, a.data(), size, true, c.data());
        }
    }
    std::map<int, Eigen::MatrixXd> hessians; // by K, shared by the shapes that read K inputs
    std::map<std::pair<int, int>, GptqBenchRow> byShape;
    for (const auto& [n, k] : o.shapes) {
        auto it = hessians.find(k);
        if (it == hessians.end())
            it = hessians.emplace(k, correlatedHessian(k, o.hessianRows, rng)).first;
        const Eigen::MatrixXd w = randomNormal(n, k, rng, 0.02f).cast<double>();
        GptqBenchRow row;
        row.n = n;
        row.k = k;
        auto t0 = std::chrono::steady_clock::now();
        const GptqFactor factor = factorGptqHessian(it->second, o.gptq);
        row.factorSeconds = secondsSince(t0);
        t0 = std::chrono::steady_clock::now();
        const GptqResult r = gptqQuantize(w, factor, o.gptq);
        row.sweepSeconds = secondsSince(t0);
        row.loss = r.loss;
        row.factorDevice = factor.deviceTimes;
        row.sweepDevice = r.deviceTimes;
        row.dampUsed = r.dampUsed;
        byShape[{n, k}] = row;
        report.rows.push_back(row);
        if (onRow)
            onRow(row);
    }
    const auto qkv = byShape.find({4096, 4096}), up = byShape.find({11008, 4096}), down = byShape.find({4096, 11008});
    if (qkv != byShape.end() && up != byShape.end() && down != byShape.end())
        // Hessians: one for q/k/v, one for o, one for gate/up (all 4096 wide), one for down.
        report.blockSeconds = 3 * qkv->second.factorSeconds + down->second.factorSeconds +
                              4 * qkv->second.sweepSeconds + 2 * up->second.sweepSeconds + down->second.sweepSeconds;
    return report;
}

} // namespace qs::quant
