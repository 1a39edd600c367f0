// `speed`: prefill and decode tokens per second of the forward pass, and peak memory; with
// --quantize METHOD, the time and peak memory of calibrating and quantizing the model on random
// tokens with its linears left in the checkpoint until quantized (for large shapes).
#include "commands.hpp"
#include "quant_options.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/compute/backend.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/stage_timer.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
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
    // --quantize
    std::string method;
    int samples = 2;
    int seqlen = 128;
    int blocks = 0; // 0: all
    bool calibrateOnly = false; // --calibrate: the calibration pass alone, no method
    quant::GptqSolveOn gptqSolve = quant::GptqSolveOn::Auto; // --gptq-solve
};

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A field of /proc/self/status in bytes ("RssAnon", "RssFile", "VmHWM"); 0 when absent.
std::uint64_t statusBytes(const std::string& key)
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key + ":", 0) == 0)
            return std::stoull(line.substr(key.size() + 1)) * 1024ull;
    return 0;
}

// --calibrate: the block-by-block calibration pass alone (statistics, Hessians and input
// samples at every linear input, then each block's outputs), as every method runs it.
int runCalibrateSpeed(const SpeedOptions& o, const model::Model& m, runtime::Transformer& tf,
                      const calib::CalibrationSet& set, const std::shared_ptr<compute::Backend>& backend,
                      double loadSeconds, int totalBlocks)
{
    calib::CaptureOptions capture;
    capture.hessian = true;
    capture.backend = backend;
    const int blocks = int(tf.weights().blocks.size());
    prof::reset();
    const auto start = std::chrono::steady_clock::now();
    std::vector<double> perBlock;
    auto blockStart = start;
    calib::streamCalibration(tf, set, capture, [&](calib::BlockCalibration& cal) {
        // What a method reads first: the Hessians (forces a device-resident sum to the host).
        for (const auto& site : cal.sites)
            if (site)
                (void)site->gptqHessian();
    }, nullptr, [&](int) {
        perBlock.push_back(seconds(blockStart));
        blockStart = std::chrono::steady_clock::now();
    });
    const double total = seconds(start);
    std::string perBlockText;
    for (double b : perBlock)
        perBlockText += (perBlockText.empty() ? "" : ", ") + std::to_string(b).substr(0, 6);
    if (o.json) {
        nlohmann::json j = {{"model", m.source.string()}, {"device", backend->name()}, {"blocks", blocks},
                            {"model_blocks", totalBlocks}, {"samples", o.samples}, {"seqlen", o.seqlen},
                            {"load_seconds", loadSeconds}, {"calibrate_seconds", total},
                            {"seconds_per_block", perBlock}, {"peak_rss_bytes", quant::peakRssBytes()}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("%s on %s: calibration pass (capture with Hessians + block outputs) over %d of %d blocks, %d x %d "
                    "random tokens: load %.1f s, %.2f s (per block: %s s); peak RSS %s\n",
                    m.source.filename().c_str(), backend->name().c_str(), blocks, totalBlocks, o.samples, o.seqlen,
                    loadSeconds, total, perBlockText.c_str(), humanBytes(double(quant::peakRssBytes())).c_str());
    }
    if (prof::enabled())
        std::fprintf(stderr, "stage times (QS_PROFILE), calibration pass %.2f s:\n%s", total, prof::report(total).c_str());
    return 0;
}

int runQuantizeSpeed(const SpeedOptions& o)
{
    auto m = model::openModel(o.model);
    runtime::LoadOptions load;
    // On the GPU the linears go to the device in f16 (as the checkpoint holds them); on the CPU
    // they stay in the checkpoint until quantized.
    std::shared_ptr<compute::Backend> backend = o.gpu ? compute::makeBackend(true) : compute::makeCpuBackend();
    if (o.gpu)
        load.linearBackend = backend;
    else
        load.lazyLinears = true;
    auto t0 = std::chrono::steady_clock::now();
    runtime::LlamaWeights weights = runtime::loadLlamaWeights(m, load);
    const int totalBlocks = int(weights.blocks.size());
    if (o.blocks > 0 && o.blocks < totalBlocks) {
        weights.blocks.resize(std::size_t(o.blocks));
        weights.spec.numLayers = o.blocks;
    }
    runtime::Transformer tf(std::move(weights));
    const double loadSeconds = seconds(t0);

    std::mt19937 rng(1);
    std::uniform_int_distribution<int> tok(0, int(m.spec.vocabSize) - 1);
    calib::CalibrationSet set;
    set.length = o.seqlen;
    for (int i = 0; i < o.samples; ++i) {
        std::vector<std::int32_t> sample(std::size_t(o.seqlen));
        for (auto& t : sample)
            t = tok(rng);
        set.samples.push_back(std::move(sample));
    }
    if (o.calibrateOnly)
        return runCalibrateSpeed(o, m, tf, set, backend, loadSeconds, totalBlocks);
    quant::QuantConfig config;
    config.method = o.method;
    config.bits = o.method == "absmax" || o.method == "smoothquant" ? 8 : 4;
    config.gptqSolve = o.gptqSolve;
    // Anonymous memory (heap: hidden states, the block at work, statistics) sampled at every
    // stage; VmHWM also counts the checkpoint's mapped pages the process has touched.
    std::uint64_t peakAnon = 0;
    std::string lastStage;
    const auto start = std::chrono::steady_clock::now();
    jobs::Progress progress(
        [&](const jobs::ProgressUpdate& u) {
            peakAnon = std::max(peakAnon, statusBytes("RssAnon"));
            if (u.stage != lastStage && !o.json) {
                std::fprintf(stderr, "[%7.1f s] %s (RssAnon %s)\n", seconds(start), u.stage.c_str(),
                             humanBytes(double(statusBytes("RssAnon"))).c_str());
                lastStage = u.stage;
            }
        },
        nullptr);
    prof::reset();
    const auto run = quant::quantizeModel(tf, config, &set, backend, &progress);
    peakAnon = std::max(peakAnon, statusBytes("RssAnon"));
    if (prof::enabled())
        std::fprintf(stderr, "stage times (QS_PROFILE), quantization %.2f s:\n%s", run.seconds, prof::report(run.seconds).c_str());
    const int blocks = int(tf.weights().blocks.size());
    // Per block: the method's own time (its linears' report seconds; calibration excluded) and,
    // where the method reports them (AWQ), its stages.
    std::vector<double> methodPerBlock(std::size_t(blocks), 0.0);
    nlohmann::json stagesPerBlock = nlohmann::json::array();
    for (const auto& l : run.layers) {
        if (l.block >= 0 && l.block < blocks)
            methodPerBlock[std::size_t(l.block)] += l.seconds;
        if (l.role == runtime::LinearRole::Q && l.choices.contains("awq_block_seconds"))
            stagesPerBlock.push_back(l.choices["awq_block_seconds"]);
    }
    if (!o.json)
        for (int b = 0; b < blocks; ++b)
            std::fprintf(stderr, "block %d: method %.2f s%s%s\n", b, methodPerBlock[std::size_t(b)],
                         std::size_t(b) < stagesPerBlock.size() ? ", stages " : "",
                         std::size_t(b) < stagesPerBlock.size() ? stagesPerBlock[std::size_t(b)].dump().c_str() : "");
    if (o.json) {
        nlohmann::json j = {{"model", m.source.string()}, {"method", config.describe()},
                            {"method_seconds_per_block", methodPerBlock},
                            {"blocks", blocks}, {"model_blocks", totalBlocks},
                            {"samples", o.samples}, {"seqlen", o.seqlen}, {"load_seconds", loadSeconds},
                            {"quantize_seconds", run.seconds}, {"seconds_per_block", run.seconds / blocks},
                            {"peak_rss_bytes", run.peakRssBytes}, {"peak_rss_anon_bytes_sampled", peakAnon},
                            {"rss_file_bytes_end", statusBytes("RssFile")}};
        if (!stagesPerBlock.empty())
            j["method_stage_seconds_per_block"] = stagesPerBlock;
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("%s: %s on %d of %d blocks, %d x %d random tokens: load %.1f s, quantize %.1f s (%.1f s per "
                    "block); peak RSS %s (VmHWM, mapped checkpoint pages included), peak anonymous memory %s "
                    "(sampled per stage), mapped file pages at the end %s\n",
                    m.source.filename().c_str(), config.describe().c_str(), blocks, totalBlocks, o.samples,
                    o.seqlen, loadSeconds, run.seconds, run.seconds / blocks,
                    humanBytes(double(run.peakRssBytes)).c_str(), humanBytes(double(peakAnon)).c_str(),
                    humanBytes(double(statusBytes("RssFile"))).c_str());
    }
    return 0;
}

int runSpeed(const SpeedOptions& o)
{
    if (!o.method.empty() || o.calibrateOnly)
        return runQuantizeSpeed(o);
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
        prof::reset();
        t0 = std::chrono::steady_clock::now();
        auto logits = tf.forward(prompt, &cache);
        prefill.push_back(seconds(t0));
        if (prof::enabled())
            std::fprintf(stderr, "stage times (QS_PROFILE), prefill %.3f s:\n%s", prefill.back(),
                         prof::report(prefill.back()).c_str());
        prof::reset();
        t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.genTokens; ++i) {
            Eigen::Index next = 0;
            logits.row(logits.rows() - 1).maxCoeff(&next);
            const std::int32_t one[] = {std::int32_t(next)};
            logits = tf.forward(one, &cache);
        }
        decode.push_back(seconds(t0));
        if (prof::enabled())
            std::fprintf(stderr, "stage times (QS_PROFILE), decode %.3f s:\n%s", decode.back(),
                         prof::report(decode.back()).c_str());
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
    cmd->add_flag("--gpu", o->gpu, "Linears in f16 on the Vulkan device (with --quantize or --calibrate too: the "
                                   "forward, statistics and the method's kernels on it)");
    cmd->add_flag("--half", o->half, "Linears in f16 on the CPU backend (halves memory)");
    cmd->add_flag("--json", o->json, "Print JSON");
    cmd->add_option("--quantize", o->method,
                    "Instead: time and peak memory of calibrating and quantizing with this method on random tokens, "
                    "linears read from the checkpoint until quantized (rtn, absmax, smoothquant, gptq, awq, nf4)");
    cmd->add_option("--samples", o->samples, "With --quantize: calibration samples")->check(CLI::Range(1, 4096));
    cmd->add_option("--seqlen", o->seqlen, "With --quantize: tokens per sample")->check(CLI::Range(1, 1 << 20));
    cmd->add_flag("--calibrate", o->calibrateOnly,
                  "Instead: time the calibration pass alone (statistics, Hessians and samples at every linear input, "
                  "then each block's outputs), per block; with --gpu on the Vulkan device");
    cmd->add_option("--blocks", o->blocks, "With --quantize: only the first N decoder blocks (0: all)")
        ->check(CLI::Range(0, 100000));
    cmd->add_option("--gptq-solve", o->gptqSolve,
                    "With --quantize gptq --gpu: where the solve's large products run (auto: the GPU unless it is "
                    "the CPU's own, like lavapipe; gpu; cpu)")
        ->transform(CLI::CheckedTransformer(gptqSolveNames(), CLI::ignore_case));
    return {cmd, [o] { return runSpeed(*o); }};
}

} // namespace qs::cli
