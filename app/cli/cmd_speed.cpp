// `speed`: prefill and decode tokens per second of the forward pass, and peak memory.
#include "commands.hpp"

#include "core/compute/backend.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/transformer.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

namespace qs::cli {

namespace {

struct SpeedOptions {
    std::string model;
    int promptTokens = 128;
    int genTokens = 32;
    int repeats = 3;
    bool gpu = false;
    bool half = false;
    bool json = false;
};

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int runSpeed(const SpeedOptions& o)
{
    auto m = model::openModel(o.model);
    std::shared_ptr<compute::Backend> backend;
    runtime::LoadOptions load;
    if (o.gpu || o.half) {
        backend = o.gpu ? compute::makeBackend(true) : compute::makeCpuBackend();
        load.linearBackend = backend;
    }
    auto t0 = std::chrono::steady_clock::now();
    runtime::Transformer tf(runtime::loadLlamaWeights(m, load));
    const double loadSeconds = seconds(t0);

    std::mt19937 rng(1);
    std::uniform_int_distribution<int> tok(0, int(m.spec.vocabSize) - 1);
    std::vector<std::int32_t> prompt(std::size_t(o.promptTokens));
    for (auto& t : prompt)
        t = tok(rng);

    std::vector<double> prefill, decode;
    for (int r = 0; r < o.repeats; ++r) {
        runtime::KvCache cache;
        t0 = std::chrono::steady_clock::now();
        auto logits = tf.forward(prompt, &cache);
        prefill.push_back(seconds(t0));
        t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.genTokens; ++i) {
            Eigen::Index next = 0;
            logits.row(logits.rows() - 1).maxCoeff(&next);
            const std::int32_t one[] = {std::int32_t(next)};
            logits = tf.forward(one, &cache);
        }
        decode.push_back(seconds(t0));
    }
    std::sort(prefill.begin(), prefill.end());
    std::sort(decode.begin(), decode.end());
    const double p = prefill[prefill.size() / 2], d = decode[decode.size() / 2];
    const std::string device = backend ? backend->name() + (o.half ? " (f16 linears)" : "") : "cpu (Eigen f32)";
    if (o.json) {
        nlohmann::json j = {{"model", m.source.string()}, {"device", device},
                            {"parameters", m.checkpoint->totalParameters()}, {"load_seconds", loadSeconds},
                            {"prompt_tokens", o.promptTokens}, {"prefill_seconds", p},
                            {"prefill_tokens_per_second", o.promptTokens / p}, {"gen_tokens", o.genTokens},
                            {"decode_seconds", d}, {"decode_tokens_per_second", o.genTokens / d},
                            {"peak_rss_bytes", quant::peakRssBytes()}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("%s on %s: load %.1f s; prefill %d tokens %.3f s (%.1f tokens/s); decode %d tokens %.3f s "
                    "(%.2f tokens/s); peak RSS %s (median of %d)\n",
                    m.source.filename().c_str(), device.c_str(), loadSeconds, o.promptTokens, p, o.promptTokens / p,
                    o.genTokens, d, o.genTokens / d, humanBytes(double(quant::peakRssBytes())).c_str(), o.repeats);
    }
    return 0;
}

} // namespace

Command addSpeedCommand(CLI::App& app)
{
    auto o = std::make_shared<SpeedOptions>();
    auto* cmd = app.add_subcommand("speed", "Prefill and decode tokens/s of the forward pass, and peak memory");
    cmd->add_option("MODEL", o->model, "Model (as for inspect)")->required();
    cmd->add_option("--prompt-tokens", o->promptTokens, "Prefill length")->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--gen-tokens", o->genTokens, "Decoded tokens")->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--repeats", o->repeats, "Runs (the median is reported)")->check(CLI::Range(1, 1000));
    cmd->add_flag("--gpu", o->gpu, "Linears in f16 on the Vulkan device");
    cmd->add_flag("--half", o->half, "Linears in f16 on the CPU backend (halves memory)");
    cmd->add_flag("--json", o->json, "Print JSON");
    return {cmd, [o] { return runSpeed(*o); }};
}

} // namespace qs::cli
