// The tensor-core kernels (NV cooperative matrix) against their CPU twins on fresh random
// inputs: the 4-bit GEMV (gemv_mma.comp) in every work split and both code conversions, and
// X^T X from f16 X (hessian_f16.comp), symmetric and row-chunked, and the cooperative-matrix GEMM
// for every weight format, with X in f32 and converted to f16 once (to_half.comp). Devices without cooperative
// matrices (lavapipe, CI) check only that the switches fall back to the exact kernels.
// Thresholds: the GEMV with X as hi + lo f16 keeps ~22 bits of X: 1e-5 like the f32 kernels;
// with X in f16 only, and X^T X from f16 X, the f16 rounding of X (2^-11 relative per element)
// gives ~3e-4 normalized: 2e-3.
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"
#include "compute_cpu/naive_reference.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {
std::mt19937 freshRng() { return std::mt19937(std::random_device{}()); }

// H - H0: the added X^T X, so that the error is judged on the product and not on H0.
std::vector<float> minus(const std::vector<float>& a, const std::vector<float>& b)
{
    std::vector<float> d(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        d[i] = a[i] - b[i];
    return d;
}
} // namespace

class TestVulkanTensorCores : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void gemvMma_data();
    void gemvMma();
    void gemvMmaFallsBackOutsideItsFormats();
    void gemvMmaRequestedStaysRight();
    void hessianF16_data();
    void hessianF16();
    void hessianSumHalfInputs();
    void coopGemmBeyondHalf();
    void coopGemm_data();
    void coopGemm();
    void w8a8Coop_data();
    void w8a8Coop();

private:
    std::unique_ptr<VulkanBackend> gpu_;
    std::unique_ptr<Backend> cpu_ = makeCpuBackend();
    QString why_;
};

#define REQUIRE_GPU()                                                                                                  \
    if (!gpu_)                                                                                                         \
    QSKIP(qPrintable("no Vulkan device: " + why_))

void TestVulkanTensorCores::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    why_ = QString::fromStdString(why);
}

void TestVulkanTensorCores::gemvMma_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("warps");
    QTest::addColumn<int>("tiles");
    QTest::addColumn<bool>("prefetch");
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("xlo");
    // Rows of X 1..32 (several 8-column tiles), weight rows that leave tiles partly empty,
    // K split over 1..8 subgroups.
    QTest::newRow("g128 sym M=1 default") << "int4-g128-sym" << 1 << 4 << 2 << true << 0 << true;
    QTest::newRow("g128 asym M=5 w1 t1") << "int4-g128-asym" << 5 << 1 << 1 << false << 0 << true;
    QTest::newRow("g128 asym M=8 w8 t4") << "int4-g128-asym" << 8 << 8 << 4 << true << 0 << true;
    QTest::newRow("g128 sym M=19 w2 t3") << "int4-g128-sym" << 19 << 2 << 3 << false << 0 << true;
    QTest::newRow("g128 asym M=32 w4 t2 subnormal") << "int4-g128-asym" << 32 << 4 << 2 << true << 1 << true;
    QTest::newRow("g128 sym M=3 subnormal") << "int4-g128-sym" << 3 << 4 << 1 << true << 1 << true;
    QTest::newRow("g128 asym M=2 f16 x") << "int4-g128-asym" << 2 << 4 << 2 << true << 0 << false;
}

void TestVulkanTensorCores::gemvMma()
{
    REQUIRE_GPU();
    if (!gpu_->hasTensorCoreGemv())
        QSKIP("no cooperative matrix 16x8x16 on this device, or gemv_mma.comp failed its layout check on this driver");
    QFETCH(QString, format);
    QFETCH(int, m);
    QFETCH(int, warps);
    QFETCH(int, tiles);
    QFETCH(bool, prefetch);
    QFETCH(int, mode);
    QFETCH(bool, xlo);
    GemvTuning t;
    t.mma = true;
    t.mmaWarps = std::uint32_t(warps);
    t.mmaTiles = std::uint32_t(tiles);
    t.mmaPrefetch = prefetch;
    t.mmaMode = std::uint32_t(mode);
    t.mmaXlo = xlo;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    const int n = 83, k = 1024;
    auto w = std::make_shared<const WeightMatrix>(randomWeights(format.toStdString(), n, k, rng));
    const auto x = randomNormal(std::size_t(m) * k, rng);
    std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
    gpu_->dequantGemm(x.data(), m, *gpu_->prepare(w), y.data());
    gpu_->setGemvTuning(GemvTuning{});
    QVERIFY(gpu_->lastRanOnGpu());
    QCOMPARE(gemmPathName(gpu_->lastGemmPath()), "gemv-mma");
    cpu_->dequantGemm(x.data(), m, *cpu_->prepare(w), ref.data());
    const double err = normalizedError(y, ref);
    qInfo("%s M=%d: normalized error %.3g", qPrintable(format), m, err);
    QVERIFY2(err < (xlo ? 1e-5 : 2e-3), qPrintable(QString("error %1").arg(err)));
}

void TestVulkanTensorCores::gemvMmaFallsBackOutsideItsFormats()
{
    // Groups of 32 and act-order take other kernels, everywhere: exact, or within f16 rounding
    // where the int4 GEMV runs in packed f16 (by default on GPUs).
    REQUIRE_GPU();
    auto rng = freshRng();
    for (const char* f : {"int4-g32-asym", "int4-g128-asym-gidx"}) {
        auto w = std::make_shared<const WeightMatrix>(randomWeights(f, 40, 256, rng));
        const auto x = randomNormal(256, rng);
        std::vector<float> y(40, NAN), ref(40, NAN);
        gpu_->dequantGemm(x.data(), 1, *gpu_->prepare(w), y.data());
        QVERIFY(std::string(gemmPathName(gpu_->lastGemmPath())) != "gemv-mma");
        cpu_->dequantGemm(x.data(), 1, *cpu_->prepare(w), ref.data());
        QVERIFY(normalizedError(y, ref) < (gpu_->lastGemvHalfMath() ? 2e-3 : 1e-5));
    }
}

// GemvTuning::mma asked for on every device: the tensor-core GEMV where it passed its
// fragment-layout check, else gemv.comp; Y right either way (the f16 products' 2e-3).
void TestVulkanTensorCores::gemvMmaRequestedStaysRight()
{
    REQUIRE_GPU();
    GemvTuning t;
    t.mma = true;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    auto w = std::make_shared<const WeightMatrix>(randomWeights("int4-g128-asym", 70, 512, rng));
    const auto x = randomNormal(2 * 512, rng);
    std::vector<float> y(2 * 70, NAN), ref(y.size(), NAN);
    gpu_->dequantGemm(x.data(), 2, *gpu_->prepare(w), y.data());
    gpu_->setGemvTuning(GemvTuning{});
    QVERIFY(gpu_->lastRanOnGpu());
    QCOMPARE(gemmPathName(gpu_->lastGemmPath()), gpu_->hasTensorCoreGemv() ? "gemv-mma" : "gemv");
    cpu_->dequantGemm(x.data(), 2, *cpu_->prepare(w), ref.data());
    const double err = normalizedError(y, ref);
    qInfo("%s: normalized error %.3g", gemmPathName(gpu_->lastGemmPath()), err);
    QVERIFY2(err < 2e-3, qPrintable(QString("error %1").arg(err)));
}

void TestVulkanTensorCores::hessianF16_data()
{
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("wn");
    QTest::addColumn<bool>("chunked");
    // Not multiples of the 128 tile or the 32-row step; H bound whole (symmetric half) or in
    // row chunks (every tile).
    QTest::newRow("150x200 wn32") << 150 << 200 << 32 << false;
    QTest::newRow("333x264 wn64") << 333 << 264 << 64 << false;
    QTest::newRow("97x392 wn32 chunked") << 97 << 392 << 32 << true;
}

void TestVulkanTensorCores::hessianF16()
{
    REQUIRE_GPU();
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, wn);
    QFETCH(bool, chunked);
    auto rng = freshRng();
    const auto x = randomNormal(std::size_t(m) * k, rng);
    const auto h0 = randomNormal(std::size_t(k) * k, rng);
    auto h = h0, ref = h0;
    gpu_->setHessianF16(true, std::uint32_t(wn));
    if (chunked)
        gpu_->setMaxBindingBytesForTesting(std::uint64_t(200) * k * 4);  // X whole, H in 128-row chunks
    gpu_->hessianAccumulate(x.data(), m, k, h.data());
    gpu_->setMaxBindingBytesForTesting(~0ull);
    gpu_->setHessianF16(false);
    QVERIFY(gpu_->lastRanOnGpu());
    cpu_->hessianAccumulate(x.data(), m, k, ref.data());
    const double err = normalizedError(minus(h, h0), minus(ref, h0));
    qInfo("hessian f16 %dx%d: normalized error %.3g (%s)", m, k, err,
          gpu_->hessianF16Available() ? "tensor cores" : "no cooperative matrix: the f32 kernel");
    // Without cooperative matrices the switch must leave the exact kernel in place.
    QVERIFY2(err < (gpu_->hessianF16Available() ? 2e-3 : 1e-5), qPrintable(QString("error %1").arg(err)));
}

// GPTQ's Hessian sum (HessianInputs::Half): rows rounded to f16 on the tensor cores, summed in
// device memory over several adds; without cooperative matrices the rows are summed exactly.
void TestVulkanTensorCores::hessianSumHalfInputs()
{
    REQUIRE_GPU();
    try {
        auto rng = freshRng();
        const int k = 264;  // a multiple of 8, not of the 128-wide tiles
        auto sum = makeHessianSum(*gpu_, k, HessianInputs::Half);
        std::vector<float> ref(std::size_t(k) * k, 0.0f), h(ref.size(), NAN);
        for (int m : {300, 7, 2048}) {
            const auto x = randomNormal(std::size_t(m) * k, rng);
            sum->add(x.data(), m);
            cpu_->hessianAccumulate(x.data(), m, k, ref.data());
        }
        sum->read(h.data());
        const double err = normalizedError(h, ref);
        const bool half = gpu_->hessianF16Available();
        qInfo("hessian sum, f16 inputs: normalized error %.3g (%s)", err, half ? "tensor cores" : "exact kernel");
        QVERIFY2(err < (half ? 2e-3 : 1e-5), qPrintable(QString("error %1").arg(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// One value of X beyond f16's range (|x| >= 65000, either sign, or inf) sends the product to the
// exact portable kernel; values just inside keep the tensor cores.
void TestVulkanTensorCores::coopGemmBeyondHalf()
{
    REQUIRE_GPU();
    if (!gpu_->hasCooperativeMatrix())
        QSKIP("no cooperative matrix on this device");
    try {
        auto rng = freshRng();
        const int m = 100, n = 64, k = 256;
        auto w = std::make_shared<const WeightMatrix>(randomWeights("int4-g128-asym", n, k, rng));
        auto pw = gpu_->prepare(w);
        auto pc = cpu_->prepare(w);
        for (float big : {64000.0f, -65000.0f, 70000.0f, INFINITY}) {
            auto x = randomNormal(std::size_t(m) * k, rng);
            x[std::size_t(rng() % x.size())] = big;
            std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
            gpu_->dequantGemm(x.data(), m, *pw, y.data());
            const bool inside = std::fabs(big) < 65000.0f;
            QCOMPARE(gemmPathName(gpu_->lastGemmPath()), inside ? "coopmat" : "portable");
            if (std::isfinite(big)) {
                cpu_->dequantGemm(x.data(), m, *pc, ref.data());
                const double err = normalizedError(y, ref);
                QVERIFY2(err < (inside ? 2e-3 : 1e-5), qPrintable(QString("x %1: error %2").arg(big).arg(err)));
            }
            // Products sharing X (dequantGemmShared checks X's range once for all of them).
            auto w2 = std::make_shared<const WeightMatrix>(randomWeights("f16", 96, k, rng));
            auto pw2 = gpu_->prepare(w2);
            std::vector<float> y1(std::size_t(m) * n), y2(std::size_t(m) * 96), r2(y2.size());
            const PreparedWeights* ws[2] = {pw.get(), pw2.get()};
            float* ys[2] = {y1.data(), y2.data()};
            gpu_->dequantGemmShared(x.data(), m, ws, ys);
            QCOMPARE(gemmPathName(gpu_->lastGemmPath()), inside ? "coopmat" : "portable");
            if (std::isfinite(big)) {
                cpu_->dequantGemm(x.data(), m, *cpu_->prepare(w2), r2.data());
                const double err = normalizedError(y2, r2);
                QVERIFY2(err < (inside ? 2e-3 : 1e-5), qPrintable(QString("shared, x %1: error %2").arg(big).arg(err)));
            }
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestVulkanTensorCores::coopGemm_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("halfX");
    QTest::addColumn<QString>("layout");
    QTest::addColumn<int>("order");  // the inner loop's load order (setCooperativeMatrixLoadOrder)
    // Every weight format (those with their own tile loaders and those on the generic one),
    // X in f32 and converted to f16 once, every work split; row and column tiles partly filled;
    // K that is not a multiple of 128 where the format allows it, and one that is not a multiple
    // of the kernel's 64-wide steps (the portable kernel must take it, exactly).
    for (const auto& f : standardFormatNames())
        for (bool halfX : {false, true})
            for (const char* layout : {"default", "wide", "big", "pipe", "split"})
                QTest::newRow((f + (halfX ? " M=200 f16 X " : " M=200 ") + layout).c_str())
                    << QString::fromStdString(f) << 200 << 512 << 150 << halfX << QString(layout) << 0;
    QTest::newRow("int4-g32-sym M=64 K=192") << QString("int4-g32-sym") << 64 << 192 << 150 << false << QString("default") << 0;
    QTest::newRow("f16 M=130 K=320 f16 X") << QString("f16") << 130 << 320 << 150 << true << QString("default") << 0;
    QTest::newRow("int8 M=257 K=576") << QString("int8") << 257 << 576 << 150 << false << QString("default") << 0;
    QTest::newRow("int4-g32-asym M=100 K=96: portable") << QString("int4-g32-asym") << 100 << 96 << 150 << false << QString("default") << 0;
    QTest::newRow("int4-g32-sym M=64 K=192 wide") << QString("int4-g32-sym") << 64 << 192 << 150 << false << QString("wide") << 0;
    QTest::newRow("int8 M=257 K=576 f16 X wide") << QString("int8") << 257 << 576 << 150 << true << QString("wide") << 0;
    // Big: several 256-row column tiles, the last partly filled.
    QTest::newRow("int4-g128-asym M=300 K=640 N=600 big") << QString("int4-g128-asym") << 300 << 640 << 600 << true << QString("big") << 0;
    QTest::newRow("f16 M=129 K=192 N=520 f32 X big") << QString("f16") << 129 << 192 << 520 << false << QString("big") << 0;
    QTest::newRow("int8 M=64 K=576 N=257 big") << QString("int8") << 64 << 576 << 257 << true << QString("big") << 0;
    // Pipe: the shortest K (64: two 32-wide steps) and a long one, several tiles both ways.
    QTest::newRow("int4-g32-sym M=300 K=64 N=300 pipe") << QString("int4-g32-sym") << 300 << 64 << 300 << true << QString("pipe") << 0;
    QTest::newRow("int4-g32-asym M=130 K=1088 N=260 pipe") << QString("int4-g32-asym") << 130 << 1088 << 260 << true << QString("pipe") << 0;
    QTest::newRow("bf16 M=129 K=192 N=129 f32 X pipe") << QString("bf16") << 129 << 192 << 129 << false << QString("pipe") << 0;
    QTest::newRow("int8 M=256 K=640 N=384 pipe") << QString("int8") << 256 << 640 << 384 << true << QString("pipe") << 0;
    QTest::newRow("int4-g128-sym M=100 K=1024 N=300 split") << QString("int4-g128-sym") << 100 << 1024 << 300 << true << QString("split") << 0;
    QTest::newRow("int3-g64-asym M=70 K=192 N=140 split") << QString("int3-g64-asym") << 70 << 192 << 140 << true << QString("split") << 0;
    QTest::newRow("f16 M=65 K=320 N=260 f32 X split") << QString("f16") << 65 << 320 << 260 << false << QString("split") << 0;
    QTest::newRow("int8 M=1100 K=256 N=200 auto (wide)") << QString("int8") << 1100 << 256 << 200 << true << QString("auto") << 0;
    QTest::newRow("int4-g64-asym M=1100 K=256 N=200 auto (default)") << QString("int4-g64-asym") << 1100 << 256 << 200 << true << QString("auto") << 0;
    for (const char* layout : {"default", "wide", "big"})
        for (int order : {1, 2})
            QTest::newRow((std::string("int4-g128-asym M=200 K=384 N=300 ") + layout + " order " + std::to_string(order)).c_str())
                << QString("int4-g128-asym") << 200 << 384 << 300 << true << QString(layout) << order;
}

void TestVulkanTensorCores::coopGemm()
{
    // X and W are rounded to f16 on the tensor cores (f32 accumulation): threshold 2e-3
    // (measured 2e-4..3.5e-4 on the H100). X converted to f16 once gives the same values.
    REQUIRE_GPU();
    if (!gpu_->hasCooperativeMatrix())
        QSKIP("no cooperative matrix on this device");
    QFETCH(QString, format);
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(bool, halfX);
    QFETCH(QString, layout);
    QFETCH(int, order);
    try {
        auto rng = freshRng();
        auto w = std::make_shared<const WeightMatrix>(randomWeights(format.toStdString(), n, k, rng));
        const auto x = randomNormal(std::size_t(m) * k, rng);
        std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
        gpu_->setCooperativeMatrixHalfX(halfX);
        gpu_->setCooperativeMatrixLayout(coopLayoutFromName(layout.toStdString()));
        gpu_->setCooperativeMatrixLoadOrder(std::uint32_t(order));
        gpu_->dequantGemm(x.data(), m, *gpu_->prepare(w), y.data());
        gpu_->setCooperativeMatrixLoadOrder(0);
        gpu_->setCooperativeMatrixHalfX(true);
        gpu_->setCooperativeMatrixLayout(CoopLayout::Auto);
        QVERIFY(gpu_->lastRanOnGpu());
        const bool coop = k % 64 == 0;
        QCOMPARE(gemmPathName(gpu_->lastGemmPath()), coop ? "coopmat" : "portable");
        // 4-bit codes without act-order, X in f16: dequantized in packed f16 (dq_intg.comp W_PAIRS).
        const bool pairs = coop && halfX && format.startsWith("int4-") && !format.contains("gidx");
        QCOMPARE(gpu_->lastCoopHalfDequant(), pairs);
        cpu_->dequantGemm(x.data(), m, *cpu_->prepare(w), ref.data());
        const double err = normalizedError(y, ref);
        qInfo("%s M=%d K=%d N=%d%s %s: normalized error %.3g", qPrintable(format), m, k, n, halfX ? " f16 X" : "",
              qPrintable(layout), err);
        QVERIFY2(err < (coop ? 2e-3 : 1e-5), qPrintable(QString("error %1").arg(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}


void TestVulkanTensorCores::w8a8Coop_data()
{
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<QString>("layout");
    QTest::addColumn<bool>("perToken");
    // Whole tiles, partial tiles of X and W with several K steps, a per-tensor scale, rows up to
    // kGemvMaxRows (gemv.comp FMT_W8A8 everywhere) and K off the 128-byte step (the portable
    // kernel everywhere).
    QTest::newRow("one tile") << 64 << 128 << 128 << "auto" << true;
    QTest::newRow("partial tiles") << 200 << 300 << 384 << "auto" << true;
    QTest::newRow("partial tiles big") << 200 << 300 << 384 << "big" << true;
    QTest::newRow("partial tiles wide") << 200 << 300 << 384 << "wide" << true;
    QTest::newRow("per-tensor big") << 130 << 257 << 192 << "big" << false;
    QTest::newRow("per-tensor wide") << 257 << 129 << 512 << "wide" << false;
    QTest::newRow("per-tensor") << 129 << 140 << 256 << "auto" << false;
    QTest::newRow("few rows") << 13 << 50 << 384 << "auto" << true;
    QTest::newRow("K off the step") << 96 << 70 << 160 << "auto" << true;
    QTest::newRow("K off the step big") << 96 << 70 << 160 << "big" << true;
}

// W8A8 on the int8 tensor cores (w8a8.comp QS_COOPMAT) against the CPU twin: int32 sums are
// exact, so only the final float scaling differs (1e-6). Devices without them (lavapipe, CI)
// run the portable kernel on the same inputs.
void TestVulkanTensorCores::w8a8Coop()
{
    REQUIRE_GPU();
    QFETCH(int, m);
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(QString, layout);
    QFETCH(bool, perToken);
    try {
        auto rng = freshRng();
        auto w = std::make_shared<const WeightMatrix>(randomInt8PerChannel(n, k, rng));
        std::uniform_int_distribution<int> d(-128, 127);
        Int8Activations x{m, k, std::vector<std::int8_t>(std::size_t(m) * k), randomNormal(perToken ? m : 1, rng)};
        for (auto& v : x.q)
            v = std::int8_t(d(rng));
        std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
        gpu_->setCooperativeMatrixLayout(coopLayoutFromName(layout.toStdString()));
        gpu_->w8a8Gemm(x, *gpu_->prepare(w), y.data());
        gpu_->setCooperativeMatrixLayout(CoopLayout::Auto);
        QVERIFY(gpu_->lastRanOnGpu());
        const bool coop = gpu_->hasInt8CooperativeMatrix() && m >= kCoopMinRows && k % (layout == "big" ? 64 : 128) == 0;
        const std::string expected = m <= kGemvMaxRows ? "gemv"
                                     : !coop           ? "portable"
                                     : layout == "auto" ? "coopmat"
                                                        : "coopmat " + layout.toStdString();
        QCOMPARE(gpu_->lastW8a8Path(), expected);
        cpu_->w8a8Gemm(x, *cpu_->prepare(w), ref.data());
        const double err = normalizedError(y, ref);
        qInfo("w8a8 %dx%dx%d %s: normalized error %.3g", m, n, k, gpu_->lastW8a8Path().c_str(), err);
        QVERIFY2(err < 1e-6, qPrintable(QString("error %1").arg(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestVulkanTensorCores)
#include "test_vulkan_tensor_cores.moc"
