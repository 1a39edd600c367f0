#pragma once
// The options of quantscope-bench, shared with `quantscope-cli bench` so that both take the
// same arguments and print the same table. Parsing and output only; the work is in core.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qs::bench {

struct BenchArgs {
    bool quick = false, list = false, onlyDequant = false, onlyCalib = false, onlyAttention = false, onlyW8a8 = false;
    std::vector<std::string> formats, shapes, gemvVariants, gemvMmaVariants, calibShapes, attentionShapes;
    std::vector<int> batches;
    std::string out;
    std::string device;  // index or part of a name; sets QS_VULKAN_DEVICE
    int reps = 0, workgroup = 0, rowsPerWorkgroup = 0;
    int gemvWorkgroup = 0, gemvRows = 0;
    bool noGemv = false, noSubgroup = false, noCoopMatrix = false, gemvMma = false, gemvHalf = false, coopHalfX = false, coopF32X = false, mmaProbes = false;
    std::vector<std::string> coopLayouts;
};

// Registers the options on `app` (the bench program or the `bench` subcommand).
void addBenchOptions(CLI::App& app, BenchArgs& a);
// Applies --device (QS_VULKAN_DEVICE) so that device listing and selection both see it.
void applyDeviceOverride(const std::string& device);
// Runs the benchmarks (or lists devices with --devices); returns the exit code.
int runBench(const BenchArgs& a);
// Prints every Vulkan device and which one is used; returns 0 when one is usable.
int printDevices(bool json);

} // namespace qs::bench
