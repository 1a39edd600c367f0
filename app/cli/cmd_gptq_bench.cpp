// `gptq-bench`: seconds of GPTQ's solve (Hessian factorization and column sweep) per linear of
// given shapes on the CPU threads (QS_THREADS), and the sum for one 7B-shape decoder block.
#include "commands.hpp"

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
    const char* precision = a.doublePrecision ? "double" : "single";
    if (!a.json)
        std::printf("GPTQ solve, w%d g%d%s, %s precision, Hessian from %d random correlated rows\n"
                    "%-12s %10s %10s %10s %12s\n",
                    a.bits, a.group, a.actOrder ? " act-order" : "", precision, a.rows, "N x K", "factor s",
                    "sweep s", "total s", "loss");
    const auto report = quant::runGptqBenchmark(o, [&](const quant::GptqBenchRow& r) {
        if (!a.json) {
            std::printf("%5dx%-6d %10.3f %10.3f %10.3f %12.4g\n", r.n, r.k, r.factorSeconds, r.sweepSeconds,
                        r.factorSeconds + r.sweepSeconds, r.loss);
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
        for (const auto& r : report.rows)
            j["rows"].push_back({{"n", r.n},
                                 {"k", r.k},
                                 {"factor_seconds", r.factorSeconds},
                                 {"sweep_seconds", r.sweepSeconds},
                                 {"loss", r.loss},
                                 {"damp_used", r.dampUsed}});
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
    cmd->add_option("--rows", a->rows, "Rows of the random inputs X in H = 2/n X^T X")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->seed, "Random seed");
    cmd->add_flag("--json", a->json, "Print JSON");
    return {cmd, [a] { return runGptqBench(*a); }};
}

} // namespace qs::cli
