// quantscope-bench: times every compute kernel on the selected Vulkan device against ceilings it
// measures itself. Argument parsing and output only; see core/compute/benchmark.hpp.
#include "core/compute/benchmark.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>

int main(int argc, char** argv)
{
    CLI::App app{"QuantScope kernel benchmarks (Vulkan vs ceilings measured on the device)"};
    bool quick = false, list = false, onlyDequant = false;
    std::vector<std::string> formats, shapes;
    std::vector<int> batches;
    std::string out;
    int reps = 0, wg = 0, mt = 0;
    app.add_flag("--quick", quick, "small shapes (a smoke run, e.g. on lavapipe)");
    app.add_flag("--devices", list, "list Vulkan devices and exit");
    app.add_flag("--only-dequant", onlyDequant, "skip W8A8, X^T X, channel stats and histogram");
    app.add_option("--formats", formats, "weight formats (f16, int4-g128-asym, nf4-dq, Q4_K, ...)");
    app.add_option("--shapes", shapes, "NxK weight shapes, e.g. 4096x14336");
    app.add_option("--batches", batches, "batch sizes M");
    app.add_option("--reps", reps, "timed runs per case (median reported)");
    app.add_option("--workgroup", wg, "threads per workgroup of the GEMM kernels");
    app.add_option("--rows-per-workgroup", mt, "rows of X per workgroup of the GEMM kernels");
    app.add_option("--out", out, "also write the markdown table to this file");
    CLI11_PARSE(app, argc, argv);

    if (list) {
        const auto l = qs::compute::listVulkanDevices();
        for (const auto& d : l.devices)
            std::cout << qs::compute::describeDevice(d);
        if (!l.error.empty())
            std::cout << "no usable device: " << l.error << "\n";
        return l.devices.empty() ? 1 : 0;
    }
    auto opt = quick ? qs::compute::quickBenchOptions() : qs::compute::defaultBenchOptions();
    if (!formats.empty())
        opt.formats = formats;
    if (!batches.empty())
        opt.batches = batches;
    if (!shapes.empty()) {
        opt.shapes.clear();
        static const std::regex re(R"((\d+)x(\d+))");
        for (const auto& s : shapes) {
            std::smatch m;
            if (!std::regex_match(s, m, re)) {
                std::cerr << "bad shape '" << s << "' (want NxK)\n";
                return 2;
            }
            opt.shapes.emplace_back(std::stoi(m[1]), std::stoi(m[2]));
        }
    }
    if (onlyDequant)
        opt.w8a8 = opt.hessian = opt.stats = opt.histogram = false;
    if (reps > 0)
        opt.reps = reps;
    if (wg > 0)
        opt.workgroup = wg;
    if (mt > 0)
        opt.rowsPerWorkgroup = mt;
    opt.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    try {
        const auto report = qs::compute::runBenchmarks(opt);
        const std::string text = qs::compute::formatReport(report);
        std::cout << text;
        if (!out.empty())
            std::ofstream(out) << text;
        return report.error.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "quantscope-bench: " << e.what() << "\n";
        return 1;
    }
}
