#pragma once
// The settings of every method in one struct, so the GUI, the CLI and the compare table speak
// the same language. Defaults follow the reference implementations; see each field.
#include <cstdint>
#include <string>

namespace qs::quant {

// Where GPTQ's solve runs its large products (the column sweep itself stays on the CPU threads).
enum class GptqSolveOn {
    Auto, // the GPU backend's device when it is a real GPU; the CPU threads otherwise
    Gpu,  // the backend's device whenever the backend is a GPU one (lavapipe included)
    Cpu   // the CPU threads
};

enum class ActivationQuant {
    PerTokenDynamic, // SmoothQuant's O1: one scale per token, computed at run time
    PerTensorStatic  // O3: one scale for the tensor, from calibration absmax (O2, per-tensor
                     // dynamic, is not offered)
};

struct QuantConfig {
    std::string method = "rtn"; // rtn, absmax, smoothquant, gptq, awq, nf4
    int bits = 4;               // rtn 2..8, gptq 2/3/4/8, awq 4 (2..8 allowed), absmax/smoothquant 8
    int groupSize = 128;        // 0: per output channel
    bool symmetric = false;     // asymmetric (zero point) by default, as GPTQ/AWQ ship

    // Absmax INT8.
    bool perTensor = false;          // one scale for the whole matrix instead of per channel
    float outlierThreshold = 0.0f;   // LLM.int8(): > 0 keeps input columns whose activation
                                     // absmax exceeds it in fp16 (6.0 in the paper)

    // SmoothQuant.
    float alpha = 0.5f;              // migration strength; 0.8-0.85 for the Llama family
    ActivationQuant activationQuant = ActivationQuant::PerTokenDynamic;

    // GPTQ.
    float damp = 0.01f;              // fraction of the mean Hessian diagonal added
    bool actOrder = false;           // quantize columns by descending Hessian diagonal (g_idx)
    bool staticGroups = false;       // with actOrder: groups fixed before reordering
    bool mseGrid = false;            // search a shrink factor for each group's range
    int gptqBlockSize = 128;         // lazy batch update width
    bool trueSequential = true;      // [k,v,q], o, [up,gate], down with recomputed inputs
    // X^T X from activations rounded to f16 (f32 accumulation) on a GPU with tensor cores, as
    // GPTQ's reference feeds f16 activations; false: f32 products on every backend.
    bool hessianHalf = true;
    // Where the solve's large products (factorization panels, the sweep's runs) run. On the
    // H100 a 7B block's solve takes 2.65 s there against 4.28 s on 16 CPU threads
    // (gptq-bench, docs/benchmarks.md, session 5).
    GptqSolveOn gptqSolve = GptqSolveOn::Auto;

    // AWQ.
    int awqGrid = 20;                // ratios 0, 1/20, ..., 19/20
    bool awqClip = true;             // clip search (skipped for q and k)
    bool awqXOnly = false;           // original x-only scales s = x_mean^r instead of x^r / w^(1-r)
    int awqClipTokens = 512;

    // NF4.
    int nf4BlockSize = 64;
    bool doubleQuant = true;         // 8-bit blockwise absmax constants, blocks of 256
    bool fp4 = false;                // FP4 (E2M1) variant instead of NormalFloat

    std::uint64_t seed = 0;
    // Rows of calibration samples stacked per block forward (0: calib::kDefaultBatchRows, 4096);
    // fewer saves memory, more means fewer, larger products.
    int calibBatchRows = 0;

    std::string describe() const;    // "gptq w4 g128 asym damp 0.01", for tables and logs
};

} // namespace qs::quant
