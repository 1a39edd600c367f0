// `devices`: every Vulkan device with what matters to the kernels, and which one is used.
#include "commands.hpp"

#include "bench_args.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace qs::cli {

Command addDevicesCommand(CLI::App& app)
{
    struct Options {
        bool json = false;
        std::string device;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("devices", "List Vulkan devices (subgroup size, fp16/int8, 8/16-bit storage, "
                                              "cooperative matrix, binding range, heaps) and the one used");
    cmd->add_flag("--json", o->json, "Print JSON");
    cmd->add_option("--device", o->device, "Mark this device as used: an index or part of its name (as QS_VULKAN_DEVICE)");
    return {cmd, [o] {
                bench::applyDeviceOverride(o->device);
                return bench::printDevices(o->json);
            }};
}

} // namespace qs::cli
