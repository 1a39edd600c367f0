#include "bench_args.hpp"

#include "core/compute/benchmark.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>

namespace qs::bench {

void addBenchOptions(CLI::App& app, BenchArgs& a)
{
    app.add_flag("--quick", a.quick, "small shapes (a smoke run, e.g. on lavapipe)");
    app.add_flag("--devices", a.list, "list Vulkan devices and exit");
    app.add_flag("--only-dequant", a.onlyDequant, "skip W8A8, X^T X, channel stats and histogram");
    app.add_option("--formats", a.formats, "weight formats (f16, int8, int4-g128-asym, nf4-dq, Q4_K, ...)");
    app.add_option("--shapes", a.shapes, "NxK weight shapes, e.g. 4096x14336");
    app.add_option("--batches", a.batches, "batch sizes M");
    app.add_option("--reps", a.reps, "timed runs per case (median reported)");
    app.add_option("--workgroup", a.workgroup, "threads per workgroup of the portable GEMM kernels");
    app.add_option("--rows-per-workgroup", a.rowsPerWorkgroup, "rows of X per workgroup of the portable GEMM kernels");
    app.add_option("--gemv-workgroup", a.gemvWorkgroup, "threads per workgroup of the GEMV (batches <= 32)");
    app.add_option("--gemv-rows", a.gemvRows, "weight rows per GEMV thread (1..8)");
    app.add_option("--gemv-variants", a.gemvVariants,
                   "also time these GEMV splits, WORKGROUPxROWS[xPREFETCH[xHALF[xLANES]]] (ROWS 0: by shape; HALF 1: int4 in "
                   "packed f16, 2: and X in f16 pairs made once on the host, 3: made once on the GPU; LANES: threads per row group, 0 one subgroup; e.g. 256x4, 128x8x0, 128x4x0x1, 128x4x0x1x64)");
    app.add_option("--gemv-mma-variants", a.gemvMmaVariants,
                   "also time these tensor-core 4-bit GEMV settings, WARPSxTILESxPREFETCHxMODExXLO (e.g. 4x2x1x0x1)");
    app.add_option("--calib-shapes", a.calibShapes, "MxK shapes of X for X^T X and channel stats, e.g. 16384x4096");
    app.add_flag("--only-calib", a.onlyCalib, "only X^T X, channel stats and histogram");
    app.add_flag("--only-attention", a.onlyAttention, "only causal attention");
    app.add_flag("--only-w8a8", a.onlyW8a8, "only W8A8 (int8 x int8) on the weight shapes and batches");
    app.add_option("--attention-shapes", a.attentionShapes,
                   "SAMPLESxTOKENSxHEADSxKVHEADSxHEADDIM attention shapes, e.g. 32x512x32x32x128");
    app.add_flag("--coopmat-half-x", a.coopHalfX, "cooperative-matrix GEMM: X converted to f16 once per GEMM (the default)");
    app.add_flag("--mma-probes", a.mmaProbes, "also time the tensor cores fed from shared memory in several loop orders");
    app.add_flag("--coopmat-f32-x", a.coopF32X, "cooperative-matrix GEMM: X read in f32 and converted in every column tile");
    app.add_option("--coopmat-layouts", a.coopLayouts,
                   "also time these cooperative-matrix variants, LAYOUT[:oORDER][:nfirst][:f32dq]: LAYOUT auto, default, wide, big, pipe or "
                   "split; ORDER 0-2 the inner loop's load order; nfirst: the weight tiles fastest in the grid; f32dq: int4 "
                   "dequantized in f32, not packed f16 (e.g. big:o2)")
        ->check(CLI::Validator(
            [](std::string& v) {
                static const std::regex re(R"((auto|default|wide|big|pipe|split)(:o[012])?(:nfirst)?(:f32dq)?)");
                return std::regex_match(v, re) ? std::string() : "want LAYOUT[:oORDER][:nfirst][:f32dq], e.g. wide:o1";
            },
            "VARIANT"));
    app.add_flag("--gemv-half", a.gemvHalf, "int4 GEMV with packed f16 dequant and products where the device has f16 arithmetic");
    app.add_flag("--gemv-mma", a.gemvMma, "4-bit GEMV on the tensor cores (gemv_mma.comp) where the device has them");
    app.add_flag("--no-gemv", a.noGemv, "use the portable kernel for small batches too");
    app.add_flag("--no-subgroup", a.noSubgroup, "GEMV: shared-memory reduction instead of subgroupAdd");
    app.add_flag("--no-coopmat", a.noCoopMatrix, "never use cooperative matrices (portable GEMM and X^T X)");
    app.add_option("--out", a.out, "also write the markdown table to this file");
    app.add_option("--device", a.device, "Vulkan device: an index or part of its name (as QS_VULKAN_DEVICE)");
}

void applyDeviceOverride(const std::string& device)
{
    if (!device.empty())
        ::setenv("QS_VULKAN_DEVICE", device.c_str(), 1);
}

int printDevices(bool json)
{
    const auto l = compute::listVulkanDevices();
    if (json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& d : l.devices) {
            nlohmann::json heaps = nlohmann::json::array();
            for (const auto& h : d.heaps)
                heaps.push_back({{"bytes", h.size}, {"deviceLocal", h.deviceLocal}});
            arr.push_back({{"index", d.index},
                           {"name", d.name},
                           {"type", d.type},
                           {"driver", d.driver},
                           {"subgroupSize", d.subgroupSize},
                           {"subgroupArithmetic", d.subgroupArithmetic},
                           {"shaderFloat16", d.shaderFloat16},
                           {"shaderInt8", d.shaderInt8},
                           {"storage8Bit", d.storage8Bit},
                           {"storage16Bit", d.storage16Bit},
                           {"nvCooperativeMatrix", d.nvCooperativeMatrix},
                           {"khrCooperativeMatrix", d.khrCooperativeMatrix},
                           {"cooperativeMatrixShapes", d.cooperativeMatrixShapes},
                           {"maxStorageBufferRange", d.maxStorageBufferRange},
                           {"computeUnits", d.computeUnits},
                           {"heaps", heaps},
                           {"usable", d.usable},
                           {"selected", d.selected}});
        }
        nlohmann::json out{{"devices", arr}};
        if (!l.error.empty())
            out["error"] = l.error;
        std::cout << out.dump(2) << "\n";
    } else {
        for (const auto& d : l.devices)
            std::cout << compute::describeDevice(d);
        if (!l.error.empty())
            std::cout << "no usable device: " << l.error << "\n";
        else
            for (const auto& d : l.devices)
                if (d.selected)
                    std::cout << "used: [" << d.index << "] " << d.name
                              << " (override with --device or QS_VULKAN_DEVICE=<index or part of the name>)\n";
    }
    return l.error.empty() && !l.devices.empty() ? 0 : 1;
}

int runBench(const BenchArgs& a)
{
    applyDeviceOverride(a.device);
    if (a.list)
        return printDevices(false);
    auto opt = a.quick ? compute::quickBenchOptions() : compute::defaultBenchOptions();
    if (!a.formats.empty())
        opt.formats = a.formats;
    if (!a.batches.empty())
        opt.batches = a.batches;
    if (!a.shapes.empty()) {
        opt.shapes.clear();
        static const std::regex re(R"((\d+)x(\d+))");
        for (const auto& s : a.shapes) {
            std::smatch m;
            if (!std::regex_match(s, m, re)) {
                std::cerr << "bad shape '" << s << "' (want NxK, e.g. 4096x14336)\n";
                return 2;
            }
            opt.shapes.emplace_back(std::stoi(m[1]), std::stoi(m[2]));
        }
    }
    if (a.onlyDequant)
        opt.w8a8 = opt.hessian = opt.stats = opt.histogram = opt.attention = false;
    if (a.onlyW8a8) {
        opt.formats.clear();
        opt.hessian = opt.stats = opt.histogram = opt.attention = false;
    }
    if (a.onlyAttention) {
        opt.formats.clear();
        opt.w8a8 = opt.hessian = opt.stats = opt.histogram = false;
    }
    if (!a.attentionShapes.empty()) {
        opt.attentionShapes.clear();
        static const std::regex re(R"((\d+)x(\d+)x(\d+)x(\d+)x(\d+))");
        for (const auto& s : a.attentionShapes) {
            std::smatch m;
            if (!std::regex_match(s, m, re)) {
                std::cerr << "bad attention shape '" << s << "' (want SAMPLESxTOKENSxHEADSxKVHEADSxHEADDIM, e.g. 32x512x32x8x128)\n";
                return 2;
            }
            opt.attentionShapes.push_back({std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[5])});
        }
    }
    if (a.reps > 0)
        opt.reps = a.reps;
    if (a.workgroup > 0)
        opt.workgroup = a.workgroup;
    if (a.rowsPerWorkgroup > 0)
        opt.rowsPerWorkgroup = a.rowsPerWorkgroup;
    for (const auto& v : a.gemvVariants) {
        static const std::regex re(R"((\d{1,4})x(\d{1,2})(x([01])(x([0-3])(x(\d{1,4}))?)?)?)");
        std::smatch m;
        if (!std::regex_match(v, m, re)) {
            std::cerr << "bad GEMV variant '" << v
                      << "' (want WORKGROUPxROWS[xPREFETCH[xHALF[xLANES]]], e.g. 256x4, 128x8x0, 128x4x0x1 or 128x4x0x1x64)\n";
            return 2;
        }
        opt.gemvVariants.push_back({std::stoi(m[1]), std::stoi(m[2]), m[4].matched ? std::stoi(m[4]) : 0,
                                    m[6].matched ? std::stoi(m[6]) : 0, m[8].matched ? std::stoi(m[8]) : 0});
    }
    for (const auto& v : a.gemvMmaVariants) {
        static const std::regex re(R"(([1-8])x([1-4])x([01])x([01])x([01]))");
        std::smatch m;
        if (!std::regex_match(v, m, re)) {
            std::cerr << "bad tensor-core GEMV variant '" << v << "' (want WARPSxTILESxPREFETCHxMODExXLO, e.g. 4x2x1x0x1)\n";
            return 2;
        }
        opt.gemvMmaVariants.push_back({std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[5])});
    }
    if (!a.calibShapes.empty()) {
        opt.calibShapes.clear();
        static const std::regex re(R"((\d+)x(\d+))");
        for (const auto& s : a.calibShapes) {
            std::smatch m;
            if (!std::regex_match(s, m, re)) {
                std::cerr << "bad calibration shape '" << s << "' (want MxK, e.g. 16384x4096)\n";
                return 2;
            }
            opt.calibShapes.emplace_back(std::stoi(m[1]), std::stoi(m[2]));
        }
    }
    if (a.onlyCalib) {
        opt.formats.clear();
        opt.w8a8 = opt.attention = false;
    }
    if (a.gemvWorkgroup > 0)
        opt.gemvWorkgroup = a.gemvWorkgroup;
    if (a.gemvRows > 0)
        opt.gemvRows = a.gemvRows;
    opt.gemv = !a.noGemv;
    opt.gemvMma = a.gemvMma;
    opt.gemvHalfMath = a.gemvHalf;
    opt.coopHalfX = !a.coopF32X;
    opt.coopLayouts = a.coopLayouts;
    opt.mmaProbes = a.mmaProbes;
    opt.gemvSubgroupAdd = !a.noSubgroup;
    opt.coopMatrix = !a.noCoopMatrix;
    opt.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    const auto report = compute::runBenchmarks(opt);
    const std::string text = compute::formatReport(report);
    std::cout << text;
    if (!a.out.empty()) {
        std::ofstream f(a.out);
        f << text;
        if (!f)
            throw std::runtime_error("cannot write " + a.out);
    }
    return report.error.empty() ? 0 : 1;
}

} // namespace qs::bench
