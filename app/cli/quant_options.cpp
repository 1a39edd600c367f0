#include "quant_options.hpp"

#include <CLI/CLI.hpp>

namespace qs::cli {

const std::map<std::string, quant::GptqSolveOn>& gptqSolveNames()
{
    static const std::map<std::string, quant::GptqSolveOn> names{
        {"auto", quant::GptqSolveOn::Auto}, {"gpu", quant::GptqSolveOn::Gpu}, {"cpu", quant::GptqSolveOn::Cpu}};
    return names;
}

void addMethodOptions(CLI::App& cmd, QuantRunOptions& o)
{
    quant::QuantConfig& c = o.config;
    cmd.add_option("--bits", o.bits, "Weight bits (rtn/gptq/awq: 2, 3, 4; default 4; absmax/smoothquant: 8)")->check(CLI::Range(2, 8));
    cmd.add_option("--group", c.groupSize, "Group size in input columns (0: per output channel)")->check(CLI::Range(0, 1 << 20));
    cmd.add_flag("--sym", c.symmetric, "Symmetric grid (no zero point)");
    cmd.add_flag("--per-tensor", c.perTensor, "absmax: one scale for the whole matrix");
    cmd.add_option("--outlier-threshold", c.outlierThreshold, "absmax: keep input columns with activations above this in fp16 (LLM.int8: 6)");
    cmd.add_option("--alpha", c.alpha, "smoothquant: migration strength (0.5 default; 0.8-0.85 for Llama)")->check(CLI::Range(0.0, 1.0));
    cmd.add_flag("--static-activations", o.staticActivations, "smoothquant: per-tensor static activation scales");
    cmd.add_option("--damp", c.damp, "gptq: dampening as a fraction of the mean Hessian diagonal")->check(CLI::Range(0.0, 1.0));
    cmd.add_flag("--act-order", c.actOrder, "gptq: quantize columns in order of decreasing Hessian diagonal");
    cmd.add_flag("--static-groups", c.staticGroups, "gptq: with --act-order, fix groups before reordering");
    cmd.add_flag("--mse", c.mseGrid, "gptq: search each group's range shrink by MSE");
    cmd.add_flag("!--no-true-sequential", c.trueSequential, "gptq: use the block's captured Hessians for every linear");
    cmd.add_flag("!--hessian-f32", c.hessianHalf,
                 "gptq: sum X^T X from f32 activations on the GPU too (default: rounded to f16 on tensor cores, "
                 "as GPTQ's reference does)");
    cmd.add_option("--gptq-solve", c.gptqSolve,
                   "gptq: where the solve's large products run: auto (a real GPU when one computes, else the CPU "
                   "threads), gpu, cpu")
        ->transform(CLI::CheckedTransformer(gptqSolveNames(), CLI::ignore_case));
    cmd.add_flag("!--no-clip", c.awqClip, "awq: skip the clip search");
    cmd.add_flag("--x-only", c.awqXOnly, "awq: original activation-only scales");
    cmd.add_flag("!--no-double-quant", c.doubleQuant, "nf4: keep absmax constants in f32");
    cmd.add_flag("--fp4", c.fp4, "nf4: FP4 (E2M1) levels instead of NormalFloat");
    cmd.add_option("--seed", c.seed, "Seed for calibration sampling and searches");
}

void addRunOptions(CLI::App& cmd, QuantRunOptions& o)
{
    cmd.add_option("MODEL", o.model, "\"demo\", a folder, a .safetensors/.gguf file, or an HF repo id")->required();
    cmd.add_option("--calib", o.calibText, "Calibration text (default: the demo model's calibration.txt)");
    cmd.add_option("--samples", o.samples, "Calibration samples")->check(CLI::Range(1, 4096));
    cmd.add_option("--seqlen", o.seqlen, "Tokens per calibration sample (capped by the model's context)")->check(CLI::Range(2, 1 << 20));
    cmd.add_option("--text", o.evalText, "Evaluation text (default: the demo model's evaluation.txt)");
    cmd.add_option("--ctx", o.ctx, "Evaluation window length")->check(CLI::Range(4, 1 << 20));
    cmd.add_option("--eval-windows", o.evalWindows, "Evaluation windows (0: the whole text)")->check(CLI::Range(0, 1 << 20));
    cmd.add_flag("--gpu", o.gpu, "Run kernels on the Vulkan device when one works");
    cmd.add_flag("--json", o.json, "Print JSON");
    addMethodOptions(cmd, o);
}

} // namespace qs::cli

namespace qs::cli {

quant::QuantConfig configFor(const QuantRunOptions& o, const std::string& method)
{
    quant::QuantConfig c = o.config;
    c.method = method;
    c.bits = o.bits > 0 ? o.bits : (method == "absmax" || method == "smoothquant" ? 8 : 4);
    c.activationQuant =
        o.staticActivations ? quant::ActivationQuant::PerTensorStatic : quant::ActivationQuant::PerTokenDynamic;
    return c;
}

} // namespace qs::cli
