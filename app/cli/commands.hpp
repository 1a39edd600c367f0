#pragma once
// quantscope-cli subcommands. Each returns the process exit code; errors escape as exceptions
// and main() prints them as one line on stderr.
#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace qs::cli {

struct InspectOptions {
    std::string model;
    bool json = false;
};
int runInspect(const InspectOptions& o);

struct StatsOptions {
    std::string model;
    std::string tensor;
    int bins = 64;
    bool json = false;
};
int runStats(const StatsOptions& o);

struct EvalOptions {
    std::string model;
    std::string text;     // default: the demo model's evaluation text
    int ctx = 512;
    int maxWindows = 0;   // 0 = all
    std::string protocol = "full"; // "full" or "second-half"
    bool json = false;
};
int runEval(const EvalOptions& o);

struct GenerateOptions {
    std::string model;
    std::string prompt;
    int maxTokens = 64;
    float temperature = 0.0f;
    float topP = 1.0f;
    unsigned long long seed = 0;
};
int runGenerate(const GenerateOptions& o);

// Subcommands that register their own options: the returned function runs the command when
// its subcommand was chosen.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};
Command addQuantizeCommand(CLI::App& app);
Command addCompareCommand(CLI::App& app);
Command addSpeedCommand(CLI::App& app);
Command addExportCommand(CLI::App& app);
Command addDevicesCommand(CLI::App& app);  // cmd_devices.cpp
Command addBenchCommand(CLI::App& app);    // cmd_bench.cpp
Command addGptqBenchCommand(CLI::App& app); // cmd_gptq_bench.cpp
Command addAwqClipBenchCommand(CLI::App& app); // cmd_awq_clip_bench.cpp

std::string humanBytes(double bytes);

} // namespace qs::cli
