// quantscope-cli: the headless front end. Argument parsing and output only; core computes.
#include "commands.hpp"
#include "core/util/memory_policy.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv)
{
    qs::keepFreedMemoryForReuse(); // calibration's large activations reuse freed memory
    CLI::App app{"QuantScope command line: inspect, quantize and evaluate LLM checkpoints"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "quantscope-cli 0.1.0");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Log debug messages to stderr");

    qs::cli::InspectOptions inspect;
    auto* inspectCmd = app.add_subcommand(
        "inspect", "Architecture, parameter count and every tensor's name, shape, dtype and bytes");
    inspectCmd->add_option("MODEL", inspect.model, "\"demo\", a folder, a .safetensors/.gguf file, or an HF repo id in the local cache")
        ->required();
    inspectCmd->add_flag("--json", inspect.json, "Print JSON");

    qs::cli::StatsOptions stats;
    auto* statsCmd = app.add_subcommand(
        "stats", "min, max, mean, std, absmax, kurtosis, count beyond 6 sigma and a histogram of one tensor");
    statsCmd->add_option("MODEL", stats.model, "Model (as for inspect)")->required();
    statsCmd->add_option("--tensor", stats.tensor, "Tensor name (see inspect)")->required();
    statsCmd->add_option("--bins", stats.bins, "Histogram bins")->check(CLI::Range(1, 100000));
    statsCmd->add_flag("--json", stats.json, "Print JSON");

    qs::cli::EvalOptions eval;
    auto* evalCmd = app.add_subcommand("eval", "Perplexity on a text in non-overlapping windows of ctx tokens");
    evalCmd->add_option("MODEL", eval.model, "Model (as for inspect)")->required();
    evalCmd->add_option("--text", eval.text, "Text file (default: the demo model's evaluation text)");
    evalCmd->add_option("--ctx", eval.ctx, "Window length in tokens")->check(CLI::Range(4, 1 << 20));
    evalCmd->add_option("--max-windows", eval.maxWindows, "Score at most this many windows (0: all)");
    evalCmd->add_option("--protocol", eval.protocol, "full: score every position after the first of each window "
                                                     "(GPTQ/AWQ papers); second-half: llama.cpp's protocol")
        ->check(CLI::IsMember({"full", "second-half"}));
    evalCmd->add_flag("--json", eval.json, "Print JSON");

    qs::cli::GenerateOptions gen;
    auto* genCmd = app.add_subcommand("generate", "Generate text from a prompt (greedy or sampled), streamed");
    genCmd->add_option("MODEL", gen.model, "Model (as for inspect)")->required();
    genCmd->add_option("--prompt", gen.prompt, "Prompt text")->required();
    genCmd->add_option("--max-tokens", gen.maxTokens, "Tokens to generate")->check(CLI::Range(1, 100000));
    genCmd->add_option("--temperature", gen.temperature, "0 for greedy")->check(CLI::Range(0.0, 100.0));
    genCmd->add_option("--top-p", gen.topP, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
    genCmd->add_option("--seed", gen.seed, "Sampling seed");

    const qs::cli::Command commands[] = {qs::cli::addQuantizeCommand(app), qs::cli::addCompareCommand(app),
                                         qs::cli::addSpeedCommand(app), qs::cli::addExportCommand(app),
                                         qs::cli::addDevicesCommand(app), qs::cli::addBenchCommand(app),
                                         qs::cli::addGptqBenchCommand(app), qs::cli::addAwqClipBenchCommand(app)};

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
    spdlog::set_pattern("%^%l%$: %v");

    try {
        if (*inspectCmd)
            return qs::cli::runInspect(inspect);
        if (*statsCmd)
            return qs::cli::runStats(stats);
        if (*evalCmd)
            return qs::cli::runEval(eval);
        if (*genCmd)
            return qs::cli::runGenerate(gen);
        for (const auto& c : commands)
            if (*c.app)
                return c.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "quantscope-cli: error: %s\n", e.what());
        return 1;
    }
    return 2;
}
