// `gptq-bench`: seconds of GPTQ's solve (Hessian factorization and column sweep) per linear of
// given shapes on the CPU threads (QS_THREADS), and the sum for one 7B-shape decoder block.
#include "commands.hpp"

#include "core/compute/backend.hpp"
#include "core/quant/gptq_benchmark.hpp"
#include "core/util/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace qs::cli {

namespace {

struct GptqBenchArgs {
    std::vector<std::string> shapes = {"4096x4096", "11008x4096", "4096x11008"};
    int bits = 4;
    int group = 128;
    bool actOrder = false;
    bool doublePrecision = false;
    int rows = 2048;
    unsigned long long seed = 1;
    bool json = false;
    bool gpu = false;
    int runWidth = 128;
};

std::pair<int, int> parseShape(const std::string& s)
{
    int n = 0, k = 0;
    char x = 0, extra = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c", &n, &x, &k, &extra) != 3 || (x != 'x' && x != 'X') || n < 1 || k < 1)
        throw Error("gptq-bench: shape '" + s + "' is not NxK (output features x input features, e.g. 4096x11008)");
    return {n, k};
}

int runGptqBench(const GptqBenchArgs& a)
{
    quant::GptqBenchOptions o;
    o.shapes.clear();
    for (const auto& s : a.shapes)
        o.shapes.push_back(parseShape(s));
    o.gptq.grid = {a.bits, false};
    o.gptq.groupSize = a.group;
    o.gptq.actOrder = a.actOrder;
    o.gptq.precision = a.doublePrecision ? quant::GptqPrecision::Double : quant::GptqPrecision::Single;
    o.gptq.keepDequantized = false; // as the method runs it
    o.hessianRows = a.rows;
    o.seed = a.seed;
    std::shared_ptr<compute::Backend> backend;
    if (a.gpu) {
        if (a.doublePrecision)
            throw Error("gptq-bench: --gpu runs single precision only (the GPU products are f32)");
        backend = compute::makeBackend(true);
        if (backend->isGpu()) {
            o.gptq.productBackend = backend.get();
            o.gptq.deviceRunWidth = a.runWidth;
        }
        else if (!a.json)
            std::printf("no Vulkan device: the solve runs on the CPU\n");
    }
    const std::string device = o.gptq.productBackend ? backend->name() : "cpu";
    const char* precision = a.doublePrecision ? "double" : "single";
    const bool split = o.gptq.productBackend != nullptr;
    if (!a.json) {
        std::printf("GPTQ solve, w%d g%d%s, %s precision, Hessian from %d random correlated rows, products on %s\n"
                    "%-12s %10s %10s %10s %12s",
                    a.bits, a.group, a.actOrder ? " act-order" : "", precision, a.rows, device.c_str(), "N x K",
                    "factor s", "sweep s", "total s", "loss");
        if (split)
            std::printf("   factor: products (GPU kernels) uploads | sweep (runs of %d columns): products (GPU kernels) "
                        "uploads, s",
                        o.gptq.deviceRunWidth);
        std::printf("\n");
    }
    const auto report = quant::runGptqBenchmark(o, [&](const quant::GptqBenchRow& r) {
        if (!a.json) {
            std::printf("%5dx%-6d %10.3f %10.3f %10.3f %12.4g", r.n, r.k, r.factorSeconds, r.sweepSeconds,
                        r.factorSeconds + r.sweepSeconds, r.loss);
            if (split)
                std::printf("   %.3f (%.3f) %.3f | %.3f (%.3f) %.3f", r.factorDevice.products, r.factorDevice.kernels,
                            r.factorDevice.uploads, r.sweepDevice.products, r.sweepDevice.kernels, r.sweepDevice.uploads);
            std::printf("\n");
            std::fflush(stdout);
        }
    });
    if (a.json) {
        nlohmann::json j;
        j["threads"] = report.threads;
        j["precision"] = precision;
        j["bits"] = a.bits;
        j["group_size"] = a.group;
        j["act_order"] = a.actOrder;
        j["hessian_rows"] = a.rows;
        j["products_on"] = device;
        if (split)
            j["device_run_width"] = o.gptq.deviceRunWidth;
        auto times = [](const quant::GptqDeviceTimes& t) {
            return nlohmann::json{{"products", t.products}, {"kernels", t.kernels}, {"uploads", t.uploads}, {"calls", t.calls}};
        };
        for (const auto& r : report.rows) {
            nlohmann::json row{{"n", r.n},
                               {"k", r.k},
                               {"factor_seconds", r.factorSeconds},
                               {"sweep_seconds", r.sweepSeconds},
                               {"loss", r.loss},
                               {"damp_used", r.dampUsed}};
            if (split) {
                row["factor_device"] = times(r.factorDevice);
                row["sweep_device"] = times(r.sweepDevice);
            }
            j["rows"].push_back(row);
        }
        if (report.blockSeconds >= 0)
            j["block_seconds"] = report.blockSeconds;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("threads: %d\n", report.threads);
    if (report.blockSeconds >= 0)
        std::printf("7B block (4 Hessian factorizations, q/k/v/o 4096x4096, gate/up 11008x4096, down 4096x11008): "
                    "%.2f s; 32 blocks: %.1f s\n",
                    report.blockSeconds, 32 * report.blockSeconds);
    return 0;
}

} // namespace

Command addGptqBenchCommand(CLI::App& app)
{
    auto a = std::make_shared<GptqBenchArgs>();
    auto* cmd = app.add_subcommand("gptq-bench", "Time GPTQ's solve (factorization, column sweep) on random weights and "
                                                 "Hessians, per linear and for a 7B-shape block (CPU, QS_THREADS)");
    cmd->add_option("--shapes", a->shapes, "NxK shapes (default: 4096x4096 11008x4096 4096x11008, a 7B block's)");
    cmd->add_option("--bits", a->bits, "Bits (2, 3, 4)")->check(CLI::Range(2, 4));
    cmd->add_option("--group", a->group, "Group size (0: per channel)")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--act-order", a->actOrder, "Columns by descending Hessian diagonal");
    cmd->add_flag("--double", a->doublePrecision, "Double precision (default: single, as the gptq method runs)");
    cmd->add_option("--run-width", a->runWidth, "With --gpu: columns whose start state one device product gives "
                                                "(128: each lazy batch; 512: the CPU path's runs)")
        ->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--rows", a->rows, "Rows of the random inputs X in H = 2/n X^T X")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->seed, "Random seed");
    cmd->add_flag("--json", a->json, "Print JSON");
    cmd->add_flag("--gpu", a->gpu, "Run the factorization's and the sweep's large products on the Vulkan device "
                                   "(single precision; prints their seconds, GPU kernel seconds and upload seconds)");
    return {cmd, [a] { return runGptqBench(*a); }};
}

} // namespace qs::cli
