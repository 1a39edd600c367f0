// `awq-clip-bench`: seconds of AWQ's clip search (the Gram form's candidate errors, host Gram
// blocks included) per linear of given shapes, on the CPU threads (QS_THREADS) and on the Vulkan
// device, on random weights (a few outliers) and inputs (a few outlier channels); how far the
// device's errors are from the CPU's and how often the chosen shrink differs; the sum for the
// linears a 7B-shape block clips (o, gate, up, down: AutoAWQ skips q and k).
#include "commands.hpp"

#include "core/compute/backend.hpp"
#include "core/quant/awq_clip.hpp"
#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

namespace qs::cli {

namespace {

struct AwqClipBenchArgs {
    std::vector<std::string> shapes = {"4096x4096", "11008x4096", "4096x11008"};
    int bits = 4;
    int group = 128;
    bool symmetric = false;
    int tokens = 512;
    unsigned long long seed = 1;
    bool gpu = false;
    bool skipCpu = false;
    bool json = false;
};

std::pair<int, int> parseClipShape(const std::string& s)
{
    int n = 0, k = 0;
    char x = 0, extra = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c", &n, &x, &k, &extra) != 3 || (x != 'x' && x != 'X') || n < 1 || k < 1)
        throw Error("awq-clip-bench: shape '" + s + "' is not NxK (output features x input features, e.g. 4096x11008)");
    return {n, k};
}

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The first lowest error per (row, group), as searchAwqClip picks.
Eigen::MatrixXi bestSteps(const quant::AwqClipCandidates& c)
{
    Eigen::MatrixXi best = Eigen::MatrixXi::Zero(c.orgMax.rows(), c.orgMax.cols());
    for (std::size_t i = 1; i < c.errors.size(); ++i)
        for (Eigen::Index g = 0; g < best.cols(); ++g)
            for (Eigen::Index r = 0; r < best.rows(); ++r)
                if (c.errors[i](r, g) < c.errors[std::size_t(best(r, g))](r, g))
                    best(r, g) = int(i);
    return best;
}

struct ClipRow {
    int n = 0, k = 0;
    double cpuSeconds = -1, gpuSeconds = -1, gpuKernelMs = -1;
    double normalizedError = -1, pickAgreement = -1;
};

int runAwqClipBench(const AwqClipBenchArgs& a)
{
    std::shared_ptr<compute::Backend> gpu;
    if (a.gpu) {
        gpu = compute::makeBackend(true);
        if (!gpu->isGpu()) {
            if (!a.json)
                std::printf("no Vulkan device: only the CPU runs\n");
            gpu.reset();
        }
    }
    if (a.skipCpu && !gpu)
        throw Error("awq-clip-bench: --no-cpu needs --gpu and a Vulkan device");
    const quant::GroupGrid grid{a.bits, a.symmetric};
    std::mt19937 rng(std::uint32_t(a.seed));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<ClipRow> rows;
    if (!a.json)
        std::printf("AWQ clip search (Gram form), w%d g%d %s, %d tokens, 10 shrinks, threads %d%s\n%-12s %9s %9s %11s %11s %9s\n",
                    a.bits, a.group, a.symmetric ? "sym" : "asym", a.tokens, ThreadPool::shared().threads(),
                    gpu ? (", device: " + gpu->name()).c_str() : "", "N x K", "cpu s", "gpu s", "kernels ms",
                    "norm err", "picks");
    for (const auto& s : a.shapes) {
        const auto [n, k] = parseClipShape(s);
        runtime::Mat w(n, k), x(a.tokens, k);
        for (Eigen::Index i = 0; i < w.size(); ++i)
            w.data()[i] = 0.02f * normal(rng) * (uniform(rng) < 0.005f ? 10.0f : 1.0f);
        for (Eigen::Index i = 0; i < x.size(); ++i)
            x.data()[i] = normal(rng);
        for (int o = 0; o < 8; ++o)
            x.col(std::uniform_int_distribution<int>(0, k - 1)(rng)) *= 20.0f;
        ClipRow row;
        row.n = n;
        row.k = k;
        quant::AwqClipCandidates onCpu, onGpu;
        if (!a.skipCpu) {
            const auto t0 = std::chrono::steady_clock::now();
            onCpu = quant::awqClipCandidateErrors(w, x, grid, a.group, 20, 0.5f, quant::AwqClipForm::Gram, nullptr);
            row.cpuSeconds = seconds(t0);
        }
        if (gpu) {
            // A first call builds the pipeline and grows the buffers: time the second.
            onGpu = quant::awqClipCandidateErrors(w, x, grid, a.group, 20, 0.5f, quant::AwqClipForm::Gram, gpu.get());
            const auto t0 = std::chrono::steady_clock::now();
            onGpu = quant::awqClipCandidateErrors(w, x, grid, a.group, 20, 0.5f, quant::AwqClipForm::Gram, gpu.get());
            row.gpuSeconds = seconds(t0);
            row.gpuKernelMs = gpu->lastKernelMs();
        }
        if (!a.skipCpu && gpu) {
            double num = 0, den = 0;
            for (std::size_t i = 0; i < onCpu.errors.size(); ++i) {
                num += (onGpu.errors[i] - onCpu.errors[i]).squaredNorm();
                den += onCpu.errors[i].squaredNorm();
            }
            row.normalizedError = den > 0 ? std::sqrt(num / den) : 0.0;
            row.pickAgreement = (bestSteps(onGpu).array() == bestSteps(onCpu).array()).cast<double>().mean();
        }
        if (!a.json)
            std::printf("%5dx%-6d %9.3f %9.3f %11.2f %11.2e %9.5f\n", n, k, row.cpuSeconds, row.gpuSeconds, row.gpuKernelMs,
                        row.normalizedError, row.pickAgreement);
        std::fflush(stdout);
        rows.push_back(row);
    }
    // A 7B block clips o (4096x4096), gate and up (11008x4096) and down (4096x11008).
    auto blockSum = [&](double ClipRow::*field) {
        double sum = 0;
        int found = 0;
        for (const auto& [n, k, times] : {std::tuple{4096, 4096, 1}, std::tuple{11008, 4096, 2}, std::tuple{4096, 11008, 1}}) {
            for (const auto& r : rows)
                if (r.n == n && r.k == k && r.*field >= 0) {
                    sum += times * r.*field;
                    ++found;
                    break;
                }
        }
        return found == 3 ? sum : -1.0;
    };
    const double cpuBlock = blockSum(&ClipRow::cpuSeconds), gpuBlock = blockSum(&ClipRow::gpuSeconds);
    if (a.json) {
        nlohmann::json j;
        j["threads"] = ThreadPool::shared().threads();
        j["bits"] = a.bits;
        j["group_size"] = a.group;
        j["symmetric"] = a.symmetric;
        j["tokens"] = a.tokens;
        j["device"] = gpu ? gpu->name() : "none";
        for (const auto& r : rows)
            j["rows"].push_back({{"n", r.n},
                                 {"k", r.k},
                                 {"cpu_seconds", r.cpuSeconds},
                                 {"gpu_seconds", r.gpuSeconds},
                                 {"gpu_kernel_ms", r.gpuKernelMs},
                                 {"normalized_error", r.normalizedError},
                                 {"pick_agreement", r.pickAgreement}});
        j["block_cpu_seconds"] = cpuBlock;
        j["block_gpu_seconds"] = gpuBlock;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    if (cpuBlock >= 0 || gpuBlock >= 0)
        std::printf("7B block (o 4096x4096, gate/up 11008x4096, down 4096x11008): cpu %.3f s, gpu %.3f s\n", cpuBlock,
                    gpuBlock);
    return 0;
}

} // namespace

Command addAwqClipBenchCommand(CLI::App& app)
{
    auto a = std::make_shared<AwqClipBenchArgs>();
    auto* cmd = app.add_subcommand("awq-clip-bench", "Time AWQ's clip search on random weights and inputs, per linear "
                                                     "and for a 7B-shape block, on the CPU (QS_THREADS) and the Vulkan device");
    cmd->add_option("--shapes", a->shapes, "NxK shapes (default: 4096x4096 11008x4096 4096x11008, a 7B block's)");
    cmd->add_option("--bits", a->bits, "Bits (2 to 8)")->check(CLI::Range(2, 8));
    cmd->add_option("--group", a->group, "Group size (0: per channel)")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--sym", a->symmetric, "Symmetric grid (default: asymmetric, AWQ's)");
    cmd->add_option("--tokens", a->tokens, "Input rows (the clip search's tokens)")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->seed, "Random seed");
    cmd->add_flag("--gpu", a->gpu, "Also run it on the Vulkan device; compare its errors and picks with the CPU's");
    cmd->add_flag("--no-cpu", a->skipCpu, "With --gpu: skip the CPU run (no comparison)");
    cmd->add_flag("--json", a->json, "Print JSON");
    return {cmd, [a] { return runAwqClipBench(*a); }};
}

} // namespace qs::cli
