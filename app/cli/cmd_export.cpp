// `export`: quantize with one method (or none) and write GGUF, HF GPTQ/AWQ/bnb-NF4 or W8A8.
// Ctrl-C cancels; the export then leaves nothing at --out.
#include "commands.hpp"
#include "quant_job.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/compute/backend.hpp"
#include "core/export/export.hpp"
#include "core/export/gguf_file_types.hpp"
#include "core/io/model_locator.hpp"
#include "core/quant/method.hpp"
#include "core/util/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

namespace qs::cli {

namespace {

std::atomic<bool> gCancel{false};

extern "C" void onInterrupt(int)
{
    gCancel.store(true);
}

// Ctrl-C requests a cancel while the export runs; the previous handler comes back after.
class InterruptGuard {
public:
    InterruptGuard() : previous_(std::signal(SIGINT, onInterrupt)) {}
    ~InterruptGuard() { std::signal(SIGINT, previous_); }

private:
    void (*previous_)(int);
};

struct ExportOptions {
    QuantRunOptions run;
    std::string format = "gguf";
    std::string type;        // default: Q4_K_M for gguf
    std::string out;
    bool bf16 = false;
    bool gptqV2 = false;
};

jobs::Progress cancellableProgress(bool quiet)
{
    return jobs::Progress(
        [quiet](const jobs::ProgressUpdate& u) {
            if (quiet)
                return;
            std::fprintf(stderr, "\r\033[K%s: %3.0f%%", u.stage.c_str(), 100.0 * u.fraction);
            if (u.fraction >= 1.0)
                std::fprintf(stderr, "\n");
        },
        &gCancel);
}

int runExport(ExportOptions& o)
{
    const bool withMethod = o.run.config.method != "none";
    if (withMethod) {
        o.run.config = configFor(o.run, o.run.config.method);
        quant::makeMethod(o.run.config); // validates the settings before any work
    }
    exporting::ExportRequest request;
    request.format = exporting::parseExportFormat(o.format);
    request.ggufType = o.type.empty() ? "Q4_K_M" : o.type;
    if (request.format == exporting::ExportFormat::Gguf)
        exporting::parseGgufFileType(request.ggufType); // a bad --type fails before any work
    request.output = o.out;
    request.options.bf16 = o.bf16;
    request.options.gptqV2 = o.gptqV2;

    const model::Model model = model::openModel(o.run.model);
    request.source = &model;
    const InterruptGuard interrupts;
    auto progress = cancellableProgress(o.run.json);

    std::optional<runtime::Transformer> quantized;
    quant::QuantizationRun run;
    if (withMethod) {
        std::shared_ptr<compute::Backend> backend = o.run.gpu ? compute::makeBackend(true) : compute::makeCpuBackend();
        std::unique_ptr<calib::CalibrationSet> calibration;
        if (quant::makeMethod(o.run.config)->needsCalibration()) {
            if (!model.tokenizer)
                throw Error(model.source.string() + ": the method needs calibration text but the model has no usable tokenizer");
            const std::string calibPath =
                o.run.calibText.empty() ? (io::demoModelPath() / "calibration.txt").string() : o.run.calibText;
            calibration = std::make_unique<calib::CalibrationSet>(calib::calibrationSetFromFile(
                calibPath, *model.tokenizer, o.run.samples, o.run.seqlen, o.run.config.seed,
                int(model.spec.maxPositionEmbeddings)));
        }
        quantized.emplace(runtime::loadLlamaWeights(model));
        run = quant::quantizeModel(*quantized, o.run.config, calibration.get(), backend, &progress);
        request.weights = &quantized->weights();
        request.run = &run;
    }
    const exporting::ExportResult r = exporting::exportModel(request, &progress);

    if (o.run.json) {
        nlohmann::json j = {{"path", r.path.string()},
                            {"format", o.format},
                            {"bytes", r.bytes},
                            {"seconds", r.seconds},
                            {"tensors", r.tensors},
                            {"tensors_verified", r.tensorsVerified},
                            {"max_verify_error", r.maxVerifyError},
                            {"notes", r.notes}};
        if (withMethod)
            j["method"] = run.config.describe();
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("wrote %s (%s, %d tensors) in %.1f s\n", r.path.string().c_str(), humanBytes(double(r.bytes)).c_str(),
                r.tensors, r.seconds);
    std::printf("verified %d tensors against the in-memory model: worst max|a-b|/max|a| %.3g\n", r.tensorsVerified,
                r.maxVerifyError);
    for (const auto& n : r.notes)
        std::printf("note: %s\n", n.c_str());
    return 0;
}

} // namespace

Command addExportCommand(CLI::App& app)
{
    auto o = std::make_shared<ExportOptions>();
    o->run.config.method = "none";
    auto* cmd = app.add_subcommand("export", "Quantize (or not) and write GGUF, HF GPTQ/AWQ/bnb-NF4 or W8A8 files");
    cmd->add_option("MODEL", o->run.model, "\"demo\", a folder, a .safetensors/.gguf file, or an HF repo id")->required();
    std::vector<std::string> methods = quant::methodNames();
    methods.insert(methods.begin(), "none");
    cmd->add_option("--method", o->run.config.method, "none (plain conversion), rtn, absmax, smoothquant, gptq, awq, nf4")
        ->check(CLI::IsMember(methods));
    cmd->add_option("--format", o->format, "gguf, gptq, awq, bnb-nf4, w8a8")
        ->check(CLI::IsMember(exporting::exportFormatNames()));
    cmd->add_option("--type", o->type, "GGUF file type: F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K_S, Q4_K_M, Q6_K (default Q4_K_M)");
    cmd->add_option("--out", o->out, "Output file (gguf) or folder (HF formats)")->required();
    cmd->add_flag("--bf16", o->bf16, "HF formats: unquantized tensors in bf16 instead of f16");
    cmd->add_flag("--gptq-v2", o->gptqV2, "gptq: gptq_v2 zero points (no minus one)");
    cmd->add_option("--calib", o->run.calibText, "Calibration text (default: the demo model's calibration.txt)");
    cmd->add_option("--samples", o->run.samples, "Calibration samples")->check(CLI::Range(1, 4096));
    cmd->add_option("--seqlen", o->run.seqlen, "Tokens per calibration sample")->check(CLI::Range(2, 1 << 20));
    cmd->add_flag("--gpu", o->run.gpu, "Run kernels on the Vulkan device when one works");
    cmd->add_flag("--json", o->run.json, "Print JSON");
    addMethodOptions(*cmd, o->run);
    return {cmd, [o] { return runExport(*o); }};
}

} // namespace qs::cli
