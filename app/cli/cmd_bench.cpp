// `bench`: the kernel benchmarks of quantscope-bench (same options, same table).
#include "commands.hpp"

#include "bench_args.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace qs::cli {

Command addBenchCommand(CLI::App& app)
{
    auto args = std::make_shared<bench::BenchArgs>();
    auto* cmd = app.add_subcommand("bench", "Time every compute kernel on the Vulkan device against its measured "
                                            "copy bandwidth and GEMM rate, with the error against the CPU");
    bench::addBenchOptions(*cmd, *args);
    return {cmd, [args] { return bench::runBench(*args); }};
}

} // namespace qs::cli
