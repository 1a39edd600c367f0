#pragma once
// Kernel benchmarks on the selected Vulkan device (quantscope-bench, quantscope-cli bench):
// warm-up, median of many timed runs (GPU timestamps around the dispatches), weight sets
// rotated so they exceed the L2 cache, and the normalized error against the CPU twin.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qs::compute {

struct BenchOptions {
    std::vector<std::string> formats;                // dequant formats (random_weights.hpp names)
    std::vector<std::pair<int, int>> shapes;          // N x K (output x input features)
    std::vector<int> batches;                         // M
    bool w8a8 = true, hessian = true, stats = true, histogram = true;
    std::vector<std::pair<int, int>> calibShapes = {{2048, 4096}, {512, 14336}};  // M x K for X^T X and stats
    int warmup = 3, reps = 25;
    std::uint64_t rotateBytes = 256ull << 20;         // weight sets per case: at least this much
    std::uint64_t copyBytes = 1ull << 30;             // bandwidth ceiling buffer
    std::int64_t histogramElements = 100'000'000;
    int workgroup = 128, rowsPerWorkgroup = 8;
    int gemvWorkgroup = 128, gemvRows = 0;  // 0: per format
    bool gemvSubgroupAdd = true;
    bool gemv = true;          // false: the portable kernel for small batches too
    bool gemvMma = false;      // the tensor-core 4-bit GEMV (GemvTuning::mma) where it applies
    bool gemvHalfMath = false; // int4 GEMV in packed f16 (GemvTuning::halfMath) where the device has it
    // Extra GEMV work splits timed on the same weights (workgroup, rows per thread), one row each.
    std::vector<std::array<int, 5>> gemvVariants;  // workgroup, rows, prefetch, int4 packed-f16 math, lanes (0: a subgroup)
    // Tensor-core 4-bit GEMV settings timed on the same weights: warps, tiles, prefetch, mode, xlo.
    std::vector<std::array<int, 5>> gemvMmaVariants;
    bool coopMatrix = true;    // false: never the cooperative-matrix kernels
    bool coopHalfX = true;     // cooperative-matrix GEMM with X converted to f16 once (false: per tile)
    // Other cooperative-matrix work splits timed on the same weights, one row each: "default",
    // "wide", "big" (CoopLayout), each optionally with ":nfirst" (weight tiles fastest in the grid).
    std::vector<std::string> coopLayouts;
    bool mmaProbes = false;    // also time the tensor cores fed from shared memory in several loop orders
    // Causal attention (attention.comp): samples, tokens, heads, kv heads, head dim; each shape
    // timed as one batched call and as one call per sample (the forward pass's calls).
    bool attention = true;
    std::vector<std::array<int, 5>> attentionShapes = {{32, 512, 32, 32, 128}, {32, 512, 32, 8, 128}};
    std::function<void(const std::string&)> progress; // one line per case, may be empty
};

struct BenchRow {
    std::string kernel;   // "dequant-gemm", "w8a8", "hessian", ...
    std::string format;   // weight format or ""
    std::string path;     // kernel variant: gemv, coopmat, portable
    std::string shape;    // "N=4096 K=4096 M=1"
    double ms = 0;        // median (dequant-gemm: per GEMM, back to back in one submission)
    double msMin = 0;
    double msSingle = 0;  // dequant-gemm: median of single GEMMs, one submission each
    double gbPerS = 0;    // bytes the kernel must move at least / median time
    double tflops = 0;
    double error = 0;     // max normalized error against the CPU twin (rows checked)
    std::string checked;  // what the error covers ("Y rows 0..3", "exact counts")
};

struct BenchReport {
    std::string device;           // describeDevice text
    double copyGBs = 0;           // measured bandwidth ceiling (read + write)
    double bestTflops = 0;        // best GEMM rate among the rows
    double mmaInt8Tops = 0;       // the same for int8 16x16x32 products (W8A8); 0: none
    double mmaTflops = 0;         // tensor cores' ceiling (cooperative matrices, no memory); 0: none
    std::array<double, 2> mmaSharedTflops{};  // the same fed from shared memory, 64x32 / 64x64 per subgroup
    std::vector<BenchRow> rows;
    std::string error;            // non-empty: no Vulkan device (reason)
};

BenchOptions defaultBenchOptions();
BenchOptions quickBenchOptions();  // small shapes, for a smoke run on lavapipe
BenchReport runBenchmarks(const BenchOptions& opt);
std::string formatReport(const BenchReport& r);  // markdown

} // namespace qs::compute
