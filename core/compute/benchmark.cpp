#include "core/compute/benchmark.hpp"

#include "core/compute/backend.hpp"
#include "core/compute/normalized_error.hpp"
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

namespace qs::compute {
namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;


// The largest normalized error of Y's checked rows (rows[i] of y against row i of ys, n wide).
double checkedRowsError(const std::vector<float>& y, const std::vector<float>& ys, const std::vector<int>& rows, int n)
{
    double e = 0;
    for (std::size_t i = 0; i < rows.size(); ++i)
        e = std::max(e, normalizedError(y.data() + std::size_t(rows[i]) * n, ys.data() + i * n, std::size_t(n)));
    return e;
}

// Rows of X whose outputs are checked against the CPU: the first two and the last two, so
// both the first and the last row tile of the kernel are covered.
std::vector<int> checkedRows(int m)
{
    std::vector<int> r{0, 1, m - 2, m - 1};
    std::erase_if(r, [&](int i) { return i < 0 || i >= m; });
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    return r;
}

GemvTuning defaultTuning(const BenchOptions& opt)
{
    GemvTuning t{opt.gemv, opt.gemvSubgroupAdd, std::uint32_t(opt.gemvWorkgroup), std::uint32_t(opt.gemvRows)};
    t.mma = opt.gemvMma;
    t.halfMath = opt.gemvHalfMath;
    return t;
}

struct Timing {
    double median = 0, min = 0;
    bool allGpu = true;
};

// GEMMs back to back in one submission (as a model's layers run): 5 timed submissions of
// enough GEMMs for ~20 ms each, cycling through the weight sets; median and min per GEMM.
// timed(reps): GPU ms per product of `reps` back to back, or < 0 where they cannot run.
Timing timeBackToBackWith(const std::function<double(int)>& timed, std::size_t sets, double singleMs, double warmMs)
{
    const int reps = int(std::clamp(20.0 / std::max(singleMs, 1e-3), double(sets), 100.0));
    Timing out;
    std::vector<double> t;
    // Warm-up: at least warmMs of GPU time (1 s where the GPU may have idled). While the host draws the next weights the GPU drops to
    // idle clocks (345 MHz on the H100) and takes about a second to come back to 1980 MHz;
    // cases timed right after that ran up to 4x slow.
    double warm = 0;
    for (int i = 0; i < 200 && warm < warmMs; ++i) {
        const double ms = timed(reps);
        if (ms < 0) {
            out.allGpu = false;
            return out;
        }
        warm += ms * reps;
    }
    for (int i = 0; i < 5; ++i)
        t.push_back(timed(reps));
    std::sort(t.begin(), t.end());
    out.median = t[t.size() / 2];
    out.min = t.front();
    return out;
}

std::vector<const PreparedWeights*> pointers(const std::vector<std::shared_ptr<PreparedWeights>>& sets)
{
    std::vector<const PreparedWeights*> ptrs;
    for (const auto& s : sets)
        ptrs.push_back(s.get());
    return ptrs;
}

Timing timeBackToBack(VulkanBackend& gpu, const std::vector<float>& x, int m,
                      const std::vector<std::shared_ptr<PreparedWeights>>& sets, double singleMs, std::vector<float>& y,
                      double warmMs = 1000.0)
{
    const auto ptrs = pointers(sets);
    return timeBackToBackWith([&](int reps) { return gpu.timeDequantGemm(x.data(), m, ptrs, reps, y.data()); }, ptrs.size(),
                              singleMs, warmMs);
}

template <typename F>
Timing timeRuns(VulkanBackend& gpu, int warmup, int reps, F run)
{
    for (int i = 0; i < warmup; ++i)
        run(i);
    std::vector<double> t;
    Timing out;
    for (int i = 0; i < reps; ++i) {
        run(warmup + i);
        out.allGpu = out.allGpu && gpu.lastRanOnGpu();
        t.push_back(gpu.lastKernelMs());
    }
    std::sort(t.begin(), t.end());
    out.median = t[t.size() / 2];
    out.min = t.front();
    return out;
}

std::string shapeText(int n, int k, int m) { return "N=" + std::to_string(n) + " K=" + std::to_string(k) + " M=" + std::to_string(m); }

void say(const BenchOptions& opt, const std::string& line)
{
    if (opt.progress)
        opt.progress(line);
}

BenchRow finish(BenchRow row, const Timing& t, double bytes, double flops)
{
    row.ms = t.median;
    row.msMin = t.min;
    row.gbPerS = bytes / (t.median * 1e-3) / 1e9;
    row.tflops = flops / (t.median * 1e-3) / 1e12;
    if (!t.allGpu)
        row.checked += " (SOME RUNS FELL BACK TO THE CPU)";
    return row;
}

void benchDequant(const BenchOptions& opt, VulkanBackend& gpu, Backend& cpu, std::mt19937& rng, BenchReport& rep)
{
    for (auto [n, k] : opt.shapes)
        for (const auto& format : opt.formats) {
            std::vector<std::shared_ptr<const WeightMatrix>> host;
            std::vector<std::shared_ptr<PreparedWeights>> sets;
            host.push_back(std::make_shared<const WeightMatrix>(randomWeights(format, n, k, rng)));
            const std::uint64_t bytes = weightBytes(*host[0]);
            const int count = int(std::clamp<std::uint64_t>((opt.rotateBytes + bytes - 1) / bytes, 2, 16));
            while (int(host.size()) < count)
                host.push_back(std::make_shared<const WeightMatrix>(randomWeights(format, n, k, rng)));
            for (auto& h : host)
                sets.push_back(gpu.prepare(h));
            auto cpuW = cpu.prepare(host[0]);
            for (std::size_t i = 1; i < host.size(); ++i)
                host[i].reset();  // the device copies stay; free host memory
            for (int m : opt.batches) {
                const auto x = randomNormal(std::size_t(m) * k, rng);
                std::vector<float> y(std::size_t(m) * n);
                const Timing t = timeRuns(gpu, opt.warmup, opt.reps,
                                          [&](int i) { gpu.dequantGemm(x.data(), m, *sets[std::size_t(i) % sets.size()], y.data()); });
                const Timing tb = timeBackToBack(gpu, x, m, sets, t.median, y);
                gpu.dequantGemm(x.data(), m, *sets[0], y.data());
                BenchRow row{"dequant-gemm", format, gemmPathName(gpu.lastGemmPath()), shapeText(n, k, m), 0, 0, 0, 0, 0, 0, {}};
                const auto rows = checkedRows(m);
                std::vector<float> xs, ys(rows.size() * std::size_t(n));
                for (int r : rows)
                    xs.insert(xs.end(), x.begin() + std::ptrdiff_t(r) * k, x.begin() + std::ptrdiff_t(r + 1) * k);
                cpu.dequantGemm(xs.data(), int(rows.size()), *cpuW, ys.data());
                row.error = checkedRowsError(y, ys, rows, n);
                row.checked = std::to_string(rows.size()) + " rows of Y";
                const double moved = double(bytes) + 4.0 * m * k + 4.0 * m * n;
                row.msSingle = t.median;
                rep.rows.push_back(finish(row, tb.allGpu ? tb : t, moved, 2.0 * m * n * k));
                say(opt, format + " " + row.shape + ": " + std::to_string(rep.rows.back().ms) + " ms");
                // Other work splits on the same weights and X: gemv.comp's, then gemv_mma.comp's.
                std::vector<std::pair<GemvTuning, std::string>> variants;
                for (auto [wg, rowsPer, prefetch, half, lanes] : opt.gemvVariants) {
                    GemvTuning g{true, opt.gemvSubgroupAdd, std::uint32_t(wg), std::uint32_t(rowsPer), prefetch != 0};
                    g.mma = false;
                    g.halfMath = half != 0;
                    g.halfMathOnGpu = false;  // HALF 0: the f32 kernel
                    g.halfMathXOnce = half >= 2;
                    g.halfMathXOnHost = half == 2;  // 3: the pairs made by a pre-pass on the GPU
                    g.lanes = std::uint32_t(lanes);
                    variants.emplace_back(g, "gemv wg" + std::to_string(wg) + " r" + (rowsPer ? std::to_string(rowsPer) : "auto") +
                                                 (prefetch ? " prefetch" : "") + (half == 3 ? " f16 X-once on the GPU" : half == 2 ? " f16 X-once" : half ? " f16" : "") +
                                                 (lanes ? " lanes" + std::to_string(lanes) : ""));
                }
                for (auto [warps, tiles, prefetch, mode, xlo] : opt.gemvMmaVariants) {
                    GemvTuning g = defaultTuning(opt);
                    g.enabled = true;
                    g.mma = true;
                    g.mmaWarps = std::uint32_t(warps);
                    g.mmaTiles = std::uint32_t(tiles);
                    g.mmaPrefetch = prefetch != 0;
                    g.mmaMode = std::uint32_t(mode);
                    g.mmaXlo = xlo != 0;
                    variants.emplace_back(g, "gemv-mma w" + std::to_string(warps) + " t" + std::to_string(tiles) + " p" +
                                                 std::to_string(prefetch) + " mode" + std::to_string(mode) + (xlo ? " hi+lo" : " f16 x"));
                }
                // One more row for the same weights and X under the backend's current settings.
                auto timeVariant = [&] {
                    const Timing tv = timeRuns(gpu, opt.warmup, opt.reps, [&](int i) {
                        gpu.dequantGemm(x.data(), m, *sets[std::size_t(i) % sets.size()], y.data());
                    });
                    const Timing tvb = timeBackToBack(gpu, x, m, sets, tv.median, y, 100.0);
                    gpu.dequantGemm(x.data(), m, *sets[0], y.data());
                    BenchRow v = row;
                    v.msSingle = tv.median;
                    v.error = checkedRowsError(y, ys, rows, n);
                    return finish(v, tvb.allGpu ? tvb : tv, moved, 2.0 * m * n * k);
                };
                for (const auto& layout : row.path == "coopmat" ? opt.coopLayouts : std::vector<std::string>{}) {
                    // "LAYOUT[:oN][:nfirst]": oN the load order of the inner loop, nfirst the weight
                    // tiles fastest in the grid (the order before).
                    std::stringstream parts(layout);
                    std::string name, part;
                    std::getline(parts, name, ':');
                    std::uint32_t order = 0;
                    bool mFirst = true, halfDequant = true;
                    while (std::getline(parts, part, ':')) {
                        if (part == "nfirst")
                            mFirst = false;
                        else if (part == "f32dq")
                            halfDequant = false;
                        else if (part.size() == 2 && part[0] == 'o' && part[1] >= '0' && part[1] <= '2')
                            order = std::uint32_t(part[1] - '0');
                        else
                            throw std::invalid_argument("bad cooperative-matrix variant '" + layout + "'");
                    }
                    gpu.setCooperativeMatrixLayout(coopLayoutFromName(name));
                    gpu.setCooperativeMatrixRowTilesFirst(mFirst);
                    gpu.setCooperativeMatrixLoadOrder(order);
                    gpu.setCooperativeMatrixHalfDequant(halfDequant);
                    BenchRow v = timeVariant();
                    const std::string ran = gemmPathName(gpu.lastGemmPath());
                    v.path = "coopmat " + layout + (ran == "coopmat" ? "" : " (ran " + ran + ")");
                    rep.rows.push_back(v);
                    say(opt, format + " " + row.shape + " " + v.path + ": " + std::to_string(v.ms) + " ms");
                }
                gpu.setCooperativeMatrixLayout(CoopLayout::Auto);
                gpu.setCooperativeMatrixRowTilesFirst(true);
                gpu.setCooperativeMatrixLoadOrder(0);
                gpu.setCooperativeMatrixHalfDequant(true);
                for (const auto& [tuning, name] : variants) {
                    if (row.path != "gemv" && row.path != "gemv-mma")
                        break;
                    gpu.setGemvTuning(tuning);
                    BenchRow v = timeVariant();
                    const std::string ran = gemmPathName(gpu.lastGemmPath());
                    v.path = name.rfind(ran + " ", 0) == 0 ? name : name + " (ran " + ran + ")";
                    if (tuning.halfMath && ran == "gemv" && !gpu.lastGemvHalfMath())
                        v.path += " (ran f32: no f16 arithmetic or not int4)";
                    rep.rows.push_back(v);
                }
                gpu.setGemvTuning(defaultTuning(opt));
            }
        }
}

void benchW8a8(const BenchOptions& opt, VulkanBackend& gpu, Backend& cpu, std::mt19937& rng, BenchReport& rep)
{
    for (auto [n, k] : opt.shapes) {
        std::vector<std::shared_ptr<PreparedWeights>> sets;
        auto w0 = std::make_shared<const WeightMatrix>(randomInt8PerChannel(n, k, rng));
        const std::uint64_t bytes = weightBytes(*w0);
        const int count = int(std::clamp<std::uint64_t>((opt.rotateBytes + bytes - 1) / bytes, 2, 16));
        sets.push_back(gpu.prepare(w0));
        for (int i = 1; i < count; ++i)
            sets.push_back(gpu.prepare(std::make_shared<const WeightMatrix>(randomInt8PerChannel(n, k, rng))));
        auto cpuW = cpu.prepare(w0);
        std::uniform_int_distribution<int> d(-127, 127);
        for (int m : opt.batches) {
            Int8Activations x{m, k, std::vector<std::int8_t>(std::size_t(m) * k), randomNormal(std::size_t(m), rng)};
            for (auto& v : x.q)
                v = std::int8_t(d(rng));
            std::vector<float> y(std::size_t(m) * n);
            const auto rows = checkedRows(m);
            Int8Activations xs{int(rows.size()), k, {}, {}};
            for (int r : rows) {
                xs.q.insert(xs.q.end(), x.q.begin() + std::ptrdiff_t(r) * k, x.q.begin() + std::ptrdiff_t(r + 1) * k);
                xs.scale.push_back(x.scale[std::size_t(r)]);
            }
            std::vector<float> ys(rows.size() * std::size_t(n));
            cpu.w8a8Gemm(xs, *cpuW, ys.data());
            const double moved = double(bytes) + double(m) * k + 4.0 * m + 4.0 * m * n;
            // The default kernel, then where it ran on the int8 tensor cores the layouts "big" and
            // "wide" where --coopmat-layouts names them (ops counted as 2 M N K, int8).
            auto timeRow = [&] {
                const Timing t = timeRuns(gpu, opt.warmup, opt.reps,
                                          [&](int i) { gpu.w8a8Gemm(x, *sets[std::size_t(i) % sets.size()], y.data()); });
                const auto ptrs = pointers(sets);
                const Timing tb = timeBackToBackWith([&](int reps) { return gpu.timeW8a8Gemm(x, ptrs, reps, y.data()); },
                                                     ptrs.size(), t.median, 1000.0);
                gpu.w8a8Gemm(x, *sets[0], y.data());
                BenchRow row{"w8a8", "int8 x int8, per-token", gpu.lastW8a8Path(), shapeText(n, k, m), 0, 0, 0, 0, 0, 0, {}};
                row.error = checkedRowsError(y, ys, rows, n);
                row.checked = std::to_string(rows.size()) + " rows of Y";
                row.msSingle = t.median;
                rep.rows.push_back(finish(row, tb.allGpu ? tb : t, moved, 2.0 * m * n * k));
                say(opt, "w8a8 " + row.shape + " " + row.path + ": " + std::to_string(rep.rows.back().ms) + " ms");
            };
            timeRow();
            for (const char* layout : {"big", "wide"})
                if (rep.rows.back().path.rfind("coopmat", 0) == 0 &&
                    std::find(opt.coopLayouts.begin(), opt.coopLayouts.end(), layout) != opt.coopLayouts.end()) {
                    gpu.setCooperativeMatrixLayout(coopLayoutFromName(layout));
                    timeRow();
                }
            gpu.setCooperativeMatrixLayout(CoopLayout::Auto);
        }
    }
}

void benchCalibration(const BenchOptions& opt, VulkanBackend& gpu, Backend& cpu, std::mt19937& rng, BenchReport& rep)
{
    if (opt.hessian) {
        // The f32 kernel (the default) and, where the device has them, cooperative matrices:
        // split-f16 (f32 accuracy) and f16 X (hessian_f16.comp, two work splits).
        struct Mode {
            std::string name;
            bool split, f16;
            std::uint32_t wn;
        };
        std::vector<Mode> modes{{"portable", false, false, 32}};
        if (gpu.hasCooperativeMatrix() && opt.coopMatrix) {
            modes.push_back({"coopmat split-f16", true, false, 32});
            // The symmetric kernel computes the tiles on and above the diagonal only: its rate is
            // counted on the full product (the work a GEMM would do for the same H), so the
            // products it executes run at half the printed rate.
            modes.push_back({"coopmat f16 X, sym, wn32 (rate of the full product; executes half)", false, true, 32});
            modes.push_back({"coopmat f16 X, sym, wn64 (rate of the full product; executes half)", false, true, 64});
        }
        for (const auto& mk : opt.calibShapes) {
            const int m = mk.first, k = mk.second;
            const auto x = randomNormal(std::size_t(m) * k, rng);
            auto h0 = randomNormal(std::size_t(k) * k, rng);
            // Reference: rows 0..63 and the last 64 rows of H0 + X^T X (the last ones are the
            // transposed writes of the symmetric kernel).
            Eigen::Map<const RowMajorF> X(x.data(), m, k);
            Eigen::Map<const RowMajorF> H0(h0.data(), k, k);
            const int rows = std::min(64, k);
            RowMajorF refTop = H0.topRows(rows), refBottom = H0.bottomRows(rows);
            refTop.noalias() += X.leftCols(rows).transpose() * X;
            refBottom.noalias() += X.rightCols(rows).transpose() * X;
            std::vector<float> h(std::size_t(k) * k, 0.0f);
            for (const auto& mode : modes) {
                if (mode.split && std::int64_t(m) * k * k > 3'000'000'000'000LL)
                    continue;  // split-f16 at 16k x 11008 would take seconds per run
                gpu.setCooperativeMatrixHessian(mode.split);
                gpu.setHessianF16(mode.f16, mode.wn);
                const Timing t = timeRuns(gpu, 1, std::max(3, opt.reps / 5), [&](int) { gpu.hessianAccumulate(x.data(), m, k, h.data()); });
                h = h0;
                gpu.hessianAccumulate(x.data(), m, k, h.data());
                BenchRow row{"hessian X^T X", "f32", mode.name, "K=" + std::to_string(k) + " M=" + std::to_string(m), 0, 0, 0, 0, 0, 0, {}};
                row.error = std::max(normalizedError(h.data(), refTop.data(), std::size_t(rows) * k),
                                     normalizedError(h.data() + std::size_t(k - rows) * k, refBottom.data(), std::size_t(rows) * k));
                row.checked = "first and last 64 rows of H";
                // Rate counted on the full product (2 M K^2), also for the symmetric kernel,
                // which does half of it.
                rep.rows.push_back(finish(row, t, 4.0 * m * k + 8.0 * k * k, 2.0 * m * double(k) * k));
                say(opt, "hessian " + mode.name + " " + row.shape + ": " + std::to_string(rep.rows.back().ms) + " ms");
            }
        }
        gpu.setCooperativeMatrixHessian(false);
        gpu.setHessianF16(false);
    }
    if (opt.stats) {
        for (const auto& mk : opt.calibShapes) {
            const int m = mk.first, k = mk.second;
            const auto x = randomNormal(std::size_t(m) * k, rng);
            ChannelStats acc(k);
            const Timing t = timeRuns(gpu, opt.warmup, opt.reps, [&](int) { gpu.channelStats(x.data(), m, k, acc); });
            ChannelStats g(k), c(k);
            gpu.channelStats(x.data(), m, k, g);
            cpu.channelStats(x.data(), m, k, c);
            std::vector<float> gv, cv;
            for (int i = 0; i < k; ++i) {
                gv.insert(gv.end(), {g.absmax[std::size_t(i)], float(g.meanAbs(i)), float(g.meanSq(i))});
                cv.insert(cv.end(), {c.absmax[std::size_t(i)], float(c.meanAbs(i)), float(c.meanSq(i))});
            }
            BenchRow row{"channel stats", "f32", "portable", "K=" + std::to_string(k) + " M=" + std::to_string(m), 0, 0, 0, 0, 0, 0, {}};
            row.error = normalizedError(gv.data(), cv.data(), gv.size());
            row.checked = "absmax, mean|x|, mean x^2";
            rep.rows.push_back(finish(row, t, 4.0 * m * k + 12.0 * k, 3.0 * m * k));
            say(opt, "channel stats " + row.shape + ": " + std::to_string(rep.rows.back().ms) + " ms");
        }
    }
    if (opt.histogram && opt.histogramElements > 0) {
        const auto x = randomNormal(std::size_t(opt.histogramElements), rng);
        std::vector<float> edges;
        for (int i = 0; i <= 256; ++i)
            edges.push_back(-4.0f + 8.0f * float(i) / 256.0f);
        Histogram acc(edges);
        const Timing t = timeRuns(gpu, 1, std::max(3, opt.reps / 5), [&](int) { gpu.histogram(x, acc); });
        Histogram g(edges), c(edges);
        gpu.histogram(x, g);
        cpu.histogram(x, c);
        double diff = 0;
        for (std::size_t i = 0; i < g.counts.size(); ++i)
            diff += std::fabs(double(g.counts[i]) - double(c.counts[i]));
        diff += std::fabs(double(g.below) - double(c.below)) + std::fabs(double(g.above) - double(c.above));
        BenchRow row{"histogram", "256 bins", "portable", "n=" + std::to_string(opt.histogramElements), 0, 0, 0, 0, 0, 0, {}};
        row.error = diff / double(opt.histogramElements);
        row.checked = "counts (0 = exact)";
        rep.rows.push_back(finish(row, t, 4.0 * double(opt.histogramElements), 0));
        say(opt, "histogram: " + std::to_string(rep.rows.back().ms) + " ms");
    }
}

// Attention over a batch of samples: the batch in one call (kernel time, median), then one call
// per sample as the forward pass makes them (kernel times summed; the wall time with the
// transfers in the checked column). Error: the first and last samples against the CPU twin.
void benchAttention(const BenchOptions& opt, VulkanBackend& gpu, Backend& cpu, std::mt19937& rng, BenchReport& rep)
{
    for (const auto& [samples, tokens, heads, kvHeads, headDim] : opt.attentionShapes) {
        const AttentionShape s{samples, tokens, tokens, heads, kvHeads, headDim};
        const std::size_t qPer = std::size_t(tokens) * heads * headDim, kvPer = std::size_t(tokens) * kvHeads * headDim;
        const auto q = randomNormal(qPer * samples, rng), k = randomNormal(kvPer * samples, rng),
                   v = randomNormal(kvPer * samples, rng);
        std::vector<float> out(q.size());
        const Timing t = timeRuns(gpu, opt.warmup, opt.reps, [&](int) { gpu.attention(s, q.data(), k.data(), v.data(), out.data()); });
        const std::string shape = std::to_string(samples) + " x " + std::to_string(tokens) + " tokens, heads " +
                                  std::to_string(heads) + "/" + std::to_string(kvHeads) + " x " + std::to_string(headDim);
        BenchRow row{"attention", "f32", "causal, online softmax", shape, 0, 0, 0, 0, 0, 0, {}};
        std::vector<int> checked{0};
        if (samples > 1)
            checked.push_back(samples - 1);
        std::vector<float> ref(qPer);
        double cpuMs = 0;
        for (int n : checked) {
            const AttentionShape one{1, tokens, tokens, heads, kvHeads, headDim};
            cpu.attention(one, q.data() + qPer * n, k.data() + kvPer * n, v.data() + kvPer * n, ref.data());
            cpuMs += cpu.lastKernelMs() / double(checked.size());
            row.error = std::max(row.error, normalizedError(out.data() + qPer * n, ref.data(), qPer));
        }
        row.checked = (checked.size() == 2 ? "samples 0 and " + std::to_string(samples - 1) : "sample 0") + " (CPU twin " +
                      std::to_string(cpuMs).substr(0, 6) + " ms a sample)";
        const double moved = 8.0 * double(samples) * double(qPer + kvPer);  // q, k, v read; out written
        rep.rows.push_back(finish(row, t, moved, s.flops()));
        say(opt, "attention " + shape + ": " + std::to_string(rep.rows.back().ms) + " ms");

        const AttentionShape one{1, tokens, tokens, heads, kvHeads, headDim};
        double kernelMs = 0;
        bool allGpu = true;
        const auto start = std::chrono::steady_clock::now();
        for (int n = 0; n < samples; ++n) {
            gpu.attention(one, q.data() + qPer * n, k.data() + kvPer * n, v.data() + kvPer * n, out.data() + qPer * n);
            kernelMs += gpu.lastKernelMs();
            allGpu = allGpu && gpu.lastRanOnGpu();
        }
        const double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        BenchRow per = row;
        per.path = "one call per sample";
        per.error = 0;
        cpu.attention(one, q.data() + qPer * (samples - 1), k.data() + kvPer * (samples - 1), v.data() + kvPer * (samples - 1),
                      ref.data());
        per.error = normalizedError(out.data() + qPer * (samples - 1), ref.data(), qPer);
        per.checked = "last sample; wall " + std::to_string(wallMs).substr(0, 7) + " ms with transfers";
        Timing tp;
        tp.median = tp.min = kernelMs;
        tp.allGpu = allGpu;
        rep.rows.push_back(finish(per, tp, moved, s.flops()));
        say(opt, "attention " + shape + ", one call per sample: " + std::to_string(kernelMs) + " ms kernels, " +
                     std::to_string(wallMs) + " ms wall");
    }
}

} // namespace

BenchOptions defaultBenchOptions()
{
    BenchOptions o;
    o.formats = {"f16", "int8", "int4-g128-sym", "int4-g128-asym-gidx", "nf4-dq", "Q8_0", "Q4_0", "Q4_K", "Q6_K"};
    o.shapes = {{4096, 4096}, {14336, 4096}, {4096, 14336}, {28672, 8192}};
    o.batches = {1, 8, 512, 2048};
    return o;
}

BenchOptions quickBenchOptions()
{
    BenchOptions o;
    o.formats = {"f16", "int4-g128-asym", "Q4_K"};
    o.shapes = {{256, 512}};
    o.batches = {1, 8};
    o.reps = 5;
    o.warmup = 1;
    o.rotateBytes = 1 << 20;
    o.copyBytes = 16 << 20;
    o.histogramElements = 1 << 20;
    o.calibShapes = {{64, 256}};
    o.attentionShapes = {{2, 64, 4, 2, 64}};
    return o;
}

BenchReport runBenchmarks(const BenchOptions& opt)
{
    BenchReport rep;
    std::string why;
    auto gpu = VulkanBackend::create(&why);
    if (!gpu) {
        rep.error = why;
        return rep;
    }
    gpu->setGemmTiling(std::uint32_t(opt.workgroup), std::uint32_t(opt.rowsPerWorkgroup));
    gpu->setGemvTuning(defaultTuning(opt));
    gpu->setCooperativeMatrix(opt.coopMatrix);
    gpu->setCooperativeMatrixHalfX(opt.coopHalfX);
    rep.device = describeDevice(gpu->device());
    say(opt, "device: " + gpu->device().name);
    rep.copyGBs = gpu->measureCopyGBs(opt.copyBytes, 20);
    say(opt, "copy ceiling: " + std::to_string(rep.copyGBs) + " GB/s");
    rep.mmaTflops = gpu->measureMmaTflops(10);
    if (rep.mmaTflops > 0) {
        say(opt, "tensor-core ceiling: " + std::to_string(rep.mmaTflops) + " TFLOP/s");
        rep.mmaInt8Tops = gpu->measureMmaTflops(10, 0, 9, 0, 256, true);
        say(opt, "int8 tensor-core ceiling: " + std::to_string(rep.mmaInt8Tops) + " TOP/s");
        rep.mmaSharedTflops = {gpu->measureMmaTflops(10, 32), gpu->measureMmaTflops(10, 64)};
        say(opt, "fed from shared memory, 64x32 / 64x64 per subgroup: " + std::to_string(rep.mmaSharedTflops[0]) + " / " +
                     std::to_string(rep.mmaSharedTflops[1]) + " TFLOP/s");
        if (opt.mmaProbes) {
            // The inner loop's variants: subgroup tile, load order, workgroup size.
            for (std::uint32_t wn : {32u, 64u})
                for (std::uint32_t mode : {0u, 1u, 2u})
                    for (std::uint32_t threads : {256u, 128u})
                        say(opt, "fed from shared memory, 64x" + std::to_string(wn) + " per subgroup, mode " + std::to_string(mode) +
                                     ", " + std::to_string(threads) + " threads: " +
                                     std::to_string(gpu->measureMmaTflops(10, wn, 9, mode, threads)) + " TFLOP/s");
        }
    }
    auto cpu = makeCpuBackend();
    std::mt19937 rng(std::random_device{}());
    benchDequant(opt, *gpu, *cpu, rng, rep);
    if (opt.w8a8)
        benchW8a8(opt, *gpu, *cpu, rng, rep);
    benchCalibration(opt, *gpu, *cpu, rng, rep);
    if (opt.attention)
        benchAttention(opt, *gpu, *cpu, rng, rep);
    for (const auto& r : rep.rows)
        // A ceiling of executed f16/f32 products: int8 operations (w8a8) run at another rate.
        if (r.kernel != "histogram" && r.kernel != "channel stats" && r.kernel != "attention" && r.kernel != "w8a8" &&
            r.path.find("executes half") == std::string::npos)
            rep.bestTflops = std::max(rep.bestTflops, r.tflops);
    return rep;
}

namespace {
// A row's share of the best f16 GEMM, or for w8a8 rows of the int8 tensor cores' ceiling.
std::string pctOfBest(const BenchReport& r, const BenchRow& row)
{
    const double ceiling = row.kernel == "w8a8" ? r.mmaInt8Tops : r.bestTflops;
    if (row.tflops <= 0 || ceiling <= 0 || row.kernel == "histogram" || row.kernel == "channel stats" || row.kernel == "attention")
        return "-";
    return std::to_string(int(std::lround(100.0 * row.tflops / ceiling))) + "%";
}
} // namespace

std::string formatReport(const BenchReport& r)
{
    std::ostringstream s;
    if (!r.error.empty()) {
        s << "no Vulkan device: " << r.error << "\n";
        return s.str();
    }
    char buf[512];
    s << "Device:\n" << r.device << "\nCopy ceiling (shader copy, read+write): " << r.copyGBs
      << " GB/s; best GEMM among the rows: " << r.bestTflops << " TFLOP/s";
    if (r.mmaTflops > 0)
        s << "; tensor-core ceiling (cooperative-matrix products from registers, f16 -> f32): " << r.mmaTflops
          << " TFLOP/s (best GEMM at " << int(std::lround(100.0 * r.bestTflops / r.mmaTflops)) << "%)"
          << "; fed from shared memory as the GEMMs' inner loop (64x32 / 64x64 per subgroup, no barriers): "
          << r.mmaSharedTflops[0] << " / " << r.mmaSharedTflops[1] << " TFLOP/s";
    if (r.mmaInt8Tops > 0)  // w8a8 rows' "% best GEMM" column is their share of this
        s << "; int8 tensor cores from registers (16x16x32 -> int32): " << r.mmaInt8Tops << " TOP/s (w8a8 rows: % of it)";
    s << "\n\n";
    s << "| kernel | format | path | shape | median ms | min ms | single ms | GB/s | % copy | TFLOP/s | % best GEMM | max norm. err | checked |\n";
    s << "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const auto& row : r.rows) {
        std::snprintf(buf, sizeof(buf), "| %s | %s | %s | %s | %.4f | %.4f | %s | %.1f | %.1f%% | %.2f | %s | %.2e | %s |\n",
                      row.kernel.c_str(), row.format.c_str(), row.path.c_str(), row.shape.c_str(), row.ms, row.msMin,
                      row.msSingle > 0 ? std::to_string(row.msSingle).substr(0, 7).c_str() : "-", row.gbPerS,
                      r.copyGBs > 0 ? 100.0 * row.gbPerS / r.copyGBs : 0.0, row.tflops,
                      pctOfBest(r, row).c_str(),
                      row.error, row.checked.c_str());
        s << buf;
    }
    return s.str();
}

} // namespace qs::compute
