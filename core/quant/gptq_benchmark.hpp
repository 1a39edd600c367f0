#pragma once
// Times GPTQ's solve (factorization and column sweep) on random weights of given shapes with a
// Hessian from random correlated inputs, and adds the parts up to a 7B-shape decoder block
// (q, k, v, o: 4096x4096; gate, up: 11008x4096; down: 4096x11008; three distinct 4096-wide
// Hessians and one 11008-wide). For `quantscope-cli gptq-bench`.
#include "core/quant/gptq_solver.hpp"

#include <functional>
#include <string>
#include <vector>

namespace qs::quant {

struct GptqBenchOptions {
    std::vector<std::pair<int, int>> shapes = {{4096, 4096}, {11008, 4096}, {4096, 11008}}; // N x K
    GptqOptions gptq;        // bits, groups, act-order, precision, productBackend (a GPU: --gpu)
    int hessianRows = 2048;  // rows of X in H = 2/n X^T X
    std::uint64_t seed = 1;
};

struct GptqBenchRow {
    int n = 0, k = 0;
    double factorSeconds = 0; // factorGptqHessian (once per distinct Hessian in a block)
    double sweepSeconds = 0;  // gptqQuantize with the factor
    double loss = 0;
    double dampUsed = 0;
    GptqDeviceTimes factorDevice, sweepDevice; // where the products ran on gptq.productBackend
};

struct GptqBenchReport {
    std::vector<GptqBenchRow> rows;
    int threads = 1;
    double blockSeconds = -1; // the 7B block estimate; < 0 when a needed shape was not timed
};

// onRow (optional) sees each row when it is done.
GptqBenchReport runGptqBenchmark(const GptqBenchOptions& options,
                                 const std::function<void(const GptqBenchRow&)>& onRow = {});

} // namespace qs::quant
