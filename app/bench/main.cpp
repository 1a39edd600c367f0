// quantscope-bench: times every compute kernel on the selected Vulkan device against ceilings it
// measures itself. The same as `quantscope-cli bench`; see bench_args.hpp and
// core/compute/benchmark.hpp.
#include "bench_args.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    CLI::App app{"QuantScope kernel benchmarks (Vulkan vs ceilings measured on the device)"};
    qs::bench::BenchArgs args;
    qs::bench::addBenchOptions(app, args);
    CLI11_PARSE(app, argc, argv);
    try {
        return qs::bench::runBench(args);
    } catch (const std::exception& e) {
        std::cerr << "quantscope-bench: " << e.what() << "\n";
        return 1;
    }
}
