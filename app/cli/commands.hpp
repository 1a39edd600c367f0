#pragma once
// quantscope-cli subcommands. Each returns the process exit code; errors escape as exceptions
// and main() prints them as one line on stderr.
#include <string>

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

std::string humanBytes(double bytes);

} // namespace qs::cli
