// gemv.comp's packed-f16 int4 variant (GemvTuning::halfMath) against the f32 CPU twin on fresh
// random inputs: groups of 32/64/128, sym and asym, K a multiple of 32 but not of 128, batches
// 1..11, every work split, and X far from 1 in magnitude (the kernel scales X by a power of two
// into f16 range). Threshold 2e-3 (normalized error), as for the cooperative-matrix GEMM: X is
// rounded to f16 (relative 2^-11 ~ 4.9e-4 per element) and each unit of 32 products is summed in
// f16, so the error is a few 1e-4 (measured 2.7e-4..7.8e-4 on lavapipe over 20 runs); a wrong
// nibble, zero or scale gives errors of order 1, an overflowing f16 sum inf. Inputs outside the
// variant (NaN in X, zeros that are not integers or above 15) must take an exact path (the f32
// kernels' 1e-5).
#include "compute_cpu/naive_reference.hpp"
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {
constexpr double kHalfMathThreshold = 2e-3;
constexpr double kExactThreshold = 1e-5;
std::mt19937 freshRng() { return std::mt19937(std::random_device{}()); }
} // namespace

class TestGemvHalfMath : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesCpu_data();
    void matchesCpu();
    void outlierInX();
    void largestSumsStayFinite();
    void nanInXTakesTheF32Kernel();
    void fractionalZerosTakeThePortableKernel();
    void largeZerosTakeTheF32Kernel();
    void defaultByDevice();
    void sharedXHostPairs();

private:
    double run(const WeightMatrix& w, const std::vector<float>& x, int m, bool expectHalf);
    std::unique_ptr<VulkanBackend> gpu_;
    std::unique_ptr<Backend> cpu_ = makeCpuBackend();
    QString why_;
};

#define REQUIRE_F16_GPU()                                                                                              \
    if (!gpu_)                                                                                                         \
        QSKIP(qPrintable("no Vulkan device: " + why_));                                                                \
    if (!gpu_->device().shaderFloat16)                                                                                 \
    QSKIP("the device has no f16 arithmetic")

void TestGemvHalfMath::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    why_ = QString::fromStdString(why);
}

// Y from the GPU with halfMath on against the CPU twin; checks which kernel ran.
double TestGemvHalfMath::run(const WeightMatrix& w, const std::vector<float>& x, int m, bool expectHalf)
{
    auto shared = std::make_shared<const WeightMatrix>(w);
    const int n = rowsOf(w);
    std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
    gpu_->dequantGemm(x.data(), m, *gpu_->prepare(shared), y.data());
    cpu_->dequantGemm(x.data(), m, *cpu_->prepare(shared), ref.data());
    if (!gpu_->lastRanOnGpu() || gpu_->lastGemvHalfMath() != expectHalf)
        return INFINITY;
    return normalizedError(y, ref);
}

void TestGemvHalfMath::matchesCpu_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("rows");  // 0: by shape
    QTest::addColumn<int>("workgroup");
    QTest::addColumn<bool>("subgroupAdd");
    QTest::addColumn<bool>("prefetch");
    QTest::addColumn<double>("xSigma");
    QTest::addColumn<bool>("xOnce");  // X converted to f16 pairs once per call, else in every row group
    QTest::addColumn<int>("lanes");   // threads per row group, 0: one subgroup
    QTest::addColumn<bool>("xOnHost"); // with xOnce: the pairs made on the host, else on the GPU
    QTest::newRow("g32 sym K=352 M=1") << "int4-g32-sym" << 352 << 1 << 0 << 128 << true << false << 1.0 << false << 0 << false;
    QTest::newRow("g32 asym K=352 M=3 r2 prefetch") << "int4-g32-asym" << 352 << 3 << 2 << 64 << true << true << 1.0 << false << 0 << false;
    QTest::newRow("g64 asym K=320 M=1 r8 shared") << "int4-g64-asym" << 320 << 1 << 8 << 256 << false << false << 1.0 << false << 0 << false;
    QTest::newRow("g64 sym K=320 M=8 r1") << "int4-g64-sym" << 320 << 8 << 1 << 32 << true << false << 1.0 << false << 0 << false;
    QTest::newRow("g128 asym K=384 M=11 r4 shared prefetch") << "int4-g128-asym" << 384 << 11 << 4 << 128 << false << true << 1.0 << false << 0 << false;
    QTest::newRow("g128 sym K=1024 M=1 X*3e4") << "int4-g128-sym" << 1024 << 1 << 0 << 128 << true << false << 3e4 << false << 0 << false;
    QTest::newRow("g128 asym K=8192 M=1") << "int4-g128-asym" << 8192 << 1 << 0 << 128 << true << false << 1.0 << false << 0 << false;
    // max |x| just under 32 (X unscaled, the f16 sums at their largest) and just over (scaled)
    QTest::newRow("g32 asym K=352 M=2 X*8") << "int4-g32-asym" << 352 << 2 << 4 << 128 << true << false << 8.0 << false << 0 << false;
    QTest::newRow("g128 sym K=8192 M=1 X*9") << "int4-g128-sym" << 8192 << 1 << 2 << 64 << true << false << 9.0 << false << 0 << false;
    QTest::newRow("g128 asym K=512 M=2 X*1e-6") << "int4-g128-asym" << 512 << 2 << 3 << 128 << true << false << 1e-6 << false << 0 << false;
    // X converted once on the GPU (to_half.comp PAIRS 1) and on the host (gemvHalfPairs), also
    // with several subgroups per row group.
    QTest::newRow("g128 sym K=1024 M=1 X once") << "int4-g128-sym" << 1024 << 1 << 0 << 128 << true << false << 1.0 << true << 0 << false;
    QTest::newRow("g32 asym K=352 M=3 r2 X once lanes 64") << "int4-g32-asym" << 352 << 3 << 2 << 128 << true << false << 1.0 << true << 64 << false;
    QTest::newRow("g128 asym K=1024 M=1 X once host") << "int4-g128-asym" << 1024 << 1 << 0 << 128 << true << false << 1.0 << true << 0 << true;
    QTest::newRow("g32 sym K=352 M=5 X*1e-6 X once host lanes 64") << "int4-g32-sym" << 352 << 5 << 2 << 128 << true << false << 1e-6 << true << 64 << true;
    QTest::newRow("g64 sym K=640 M=8 X*3e4 X once") << "int4-g64-sym" << 640 << 8 << 0 << 128 << true << false << 3e4 << true << 0 << false;
}

void TestGemvHalfMath::matchesCpu()
{
    REQUIRE_F16_GPU();
    QFETCH(QString, format);
    QFETCH(int, k);
    QFETCH(int, m);
    QFETCH(int, rows);
    QFETCH(int, workgroup);
    QFETCH(bool, subgroupAdd);
    QFETCH(bool, prefetch);
    QFETCH(double, xSigma);
    QFETCH(bool, xOnce);
    QFETCH(int, lanes);
    QFETCH(bool, xOnHost);
    GemvTuning t;
    t.halfMath = true;
    t.halfMathXOnce = xOnce;
    t.halfMathXOnHost = xOnHost;
    t.lanes = std::uint32_t(lanes);
    t.rows = std::uint32_t(rows);
    t.workgroup = std::uint32_t(workgroup);
    t.subgroupAdd = subgroupAdd;
    t.prefetch = prefetch;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    const int n = 45;  // leaves the last workgroup partly empty at every split
    const auto w = randomWeights(format.toStdString(), n, k, rng);
    const auto x = randomNormal(std::size_t(m) * k, rng, float(xSigma));
    const double err = run(w, x, m, true);
    gpu_->setGemvTuning(GemvTuning{});
    qInfo("%s K=%d M=%d rows=%d X sigma %g%s: normalized error %.3g", qPrintable(format), k, m, rows, xSigma,
          !xOnce ? "" : xOnHost ? ", X once on the host" : ", X once on the GPU", err);
    QVERIFY2(err < kHalfMathThreshold, qPrintable(QString("error %1").arg(err)));
}

void TestGemvHalfMath::outlierInX()
{
    // One activation 2000x the others (as in LLMs' massive activations): X is scaled so that the
    // outlier fits f16; the rest keep f16's relative precision.
    REQUIRE_F16_GPU();
    GemvTuning t;
    t.halfMath = true;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    const auto w = randomWeights("int4-g128-asym", 64, 512, rng);
    auto x = randomNormal(512, rng);
    x[77] = 2000.0f;
    const double err = run(w, x, 1, true);
    gpu_->setGemvTuning(GemvTuning{});
    qInfo("outlier 2000: normalized error %.3g", err);
    QVERIFY2(err < kHalfMathThreshold, qPrintable(QString("error %1").arg(err)));
}

void TestGemvHalfMath::largestSumsStayFinite()
{
    // The f16 sums' bound: every |c - z| = 15 (codes 15 with zero 0 in even rows, codes 0 with
    // zero 15 in odd ones) and every x at the edge of the unscaled range (31.75, max |x| < 32):
    // each chain reaches 8 * 16 * 15 * 31.75 = 60960, below f16's 65504 (with X unscaled up to
    // 64, as first planned, this overflows to inf).
    REQUIRE_F16_GPU();
    auto rng = freshRng();
    IntGroupwise g;
    g.n = 6;
    g.k = 256;
    g.groupSize = 32;
    g.symmetric = false;
    g.codes.resize(std::size_t(g.n) * g.k / 8);
    g.zeros.resize(std::size_t(g.n) * g.groups());
    g.scales = randomNormal(g.zeros.size(), rng, 0.01f);
    for (int r = 0; r < g.n; ++r) {
        for (int wd = 0; wd < g.k / 8; ++wd)
            g.codes[std::size_t(r) * (g.k / 8) + wd] = r % 2 ? 0u : 0xFFFFFFFFu;
        for (int gr = 0; gr < g.groups(); ++gr)
            g.zeros[std::size_t(r) * g.groups() + gr] = r % 2 ? 15.0f : 0.0f;
    }
    GemvTuning t;
    t.halfMath = true;
    gpu_->setGemvTuning(t);
    const double err = run(WeightMatrix(g), std::vector<float>(256, 31.75f), 1, true);
    gpu_->setGemvTuning(GemvTuning{});
    qInfo("all |c - z| = 15, x = 31.75: normalized error %.3g", err);
    QVERIFY2(err < kHalfMathThreshold, qPrintable(QString("error %1").arg(err)));
}

void TestGemvHalfMath::nanInXTakesTheF32Kernel()
{
    // A NaN in one row of X: no power of two scales it, so the f32 kernel runs; the other row of
    // Y matches the CPU, the NaN row is NaN on both.
    REQUIRE_F16_GPU();
    GemvTuning t;
    t.halfMath = true;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    auto w = std::make_shared<const WeightMatrix>(randomWeights("int4-g32-sym", 16, 256, rng));
    auto x = randomNormal(2 * 256, rng);
    x[300] = NAN;  // row 1 of X only
    std::vector<float> y(32, 0.0f), ref(32, 0.0f);
    gpu_->dequantGemm(x.data(), 2, *gpu_->prepare(w), y.data());
    const bool half = gpu_->lastGemvHalfMath();
    cpu_->dequantGemm(x.data(), 2, *cpu_->prepare(w), ref.data());
    gpu_->setGemvTuning(GemvTuning{});
    QVERIFY(gpu_->lastRanOnGpu());
    QVERIFY(!half);
    const std::vector<float> y0(y.begin(), y.begin() + 16), ref0(ref.begin(), ref.begin() + 16);
    QVERIFY(normalizedError(y0, ref0) < kExactThreshold);
    for (int i = 16; i < 32; ++i)
        QVERIFY(std::isnan(y[std::size_t(i)]) && std::isnan(ref[std::size_t(i)]));
}

void TestGemvHalfMath::fractionalZerosTakeThePortableKernel()
{
    // gemv.comp holds zeros exactly only when they are integers: others run the portable kernel
    // (exact), with halfMath on or off.
    REQUIRE_F16_GPU();
    auto rng = freshRng();
    auto g = std::get<IntGroupwise>(randomWeights("int4-g64-asym", 24, 256, rng));
    std::uniform_real_distribution<float> frac(0.05f, 0.95f);
    for (auto& z : g.zeros)
        z = std::min(14.0f, z) + frac(rng);
    const auto x = randomNormal(3 * 256, rng);
    for (bool half : {false, true}) {
        GemvTuning t;
        t.halfMath = half;
        gpu_->setGemvTuning(t);
        const double err = run(WeightMatrix(g), x, 3, false);
        gpu_->setGemvTuning(GemvTuning{});
        QCOMPARE(gemmPathName(gpu_->lastGemmPath()), "portable");
        QVERIFY2(err < kExactThreshold, qPrintable(QString("error %1").arg(err)));
    }
}

void TestGemvHalfMath::largeZerosTakeTheF32Kernel()
{
    // Integer zeros above 15 (not from a 4-bit grid, but valid input): exact in gemv.comp's f32
    // kernel, outside the f16 variant's range bound.
    REQUIRE_F16_GPU();
    auto rng = freshRng();
    auto g = std::get<IntGroupwise>(randomWeights("int4-g32-asym", 24, 256, rng));
    g.zeros[5] = 20.0f;
    GemvTuning t;
    t.halfMath = true;
    gpu_->setGemvTuning(t);
    const double err = run(WeightMatrix(g), randomNormal(256, rng), 1, false);
    gpu_->setGemvTuning(GemvTuning{});
    QCOMPARE(gemmPathName(gpu_->lastGemmPath()), "gemv");
    QVERIFY2(err < kExactThreshold, qPrintable(QString("error %1").arg(err)));
}

void TestGemvHalfMath::defaultByDevice()
{
    // By default a GPU runs the packed-f16 kernel (GemvTuning::halfMathOnGpu) and a CPU device
    // (lavapipe) the f32 one; halfMathOnGpu = false keeps f32 everywhere.
    REQUIRE_F16_GPU();
    gpu_->setGemvTuning(GemvTuning{});
    auto rng = freshRng();
    const auto w = randomWeights("int4-g128-sym", 40, 256, rng);
    const auto x = randomNormal(256, rng);
    const bool gpu = !gpu_->isCpuDevice();
    const double err = run(w, x, 1, gpu);
    QVERIFY2(err < (gpu ? kHalfMathThreshold : kExactThreshold), qPrintable(QString("error %1").arg(err)));
    GemvTuning f32;
    f32.halfMathOnGpu = false;
    gpu_->setGemvTuning(f32);
    const double errF32 = run(w, x, 1, false);
    gpu_->setGemvTuning(GemvTuning{});
    QVERIFY2(errF32 < kExactThreshold, qPrintable(QString("error %1").arg(errF32)));
}

// One X for several products (dequantGemmShared): the host-made pairs go up once and serve
// both int4 products, while the int8 GEMV between them (f32 X) must upload X itself.
void TestGemvHalfMath::sharedXHostPairs()
{
    REQUIRE_F16_GPU();
    GemvTuning t;
    t.halfMath = true;
    gpu_->setGemvTuning(t);
    auto rng = freshRng();
    const int m = 2, k = 512;
    const auto x = randomNormal(std::size_t(m) * k, rng, 40.0f);  // scaled into f16 range
    std::vector<std::shared_ptr<const WeightMatrix>> ws{
        std::make_shared<const WeightMatrix>(randomWeights("int4-g128-sym", 70, k, rng)),
        std::make_shared<const WeightMatrix>(randomWeights("int8", 33, k, rng)),
        std::make_shared<const WeightMatrix>(randomWeights("int4-g64-asym", 50, k, rng))};
    std::vector<std::shared_ptr<PreparedWeights>> prepared;
    std::vector<const PreparedWeights*> ptrs;
    std::vector<std::vector<float>> ys;
    std::vector<float*> yPtrs;
    for (const auto& w : ws) {
        prepared.push_back(gpu_->prepare(w));
        ptrs.push_back(prepared.back().get());
        ys.emplace_back(std::size_t(m) * rowsOf(*w), NAN);
    }
    for (auto& y : ys)
        yPtrs.push_back(y.data());
    try {
        gpu_->dequantGemmShared(x.data(), m, ptrs, yPtrs);
    } catch (const std::exception& e) {
        gpu_->setGemvTuning(GemvTuning{});
        QFAIL(e.what());
    }
    gpu_->setGemvTuning(GemvTuning{});
    QVERIFY(gpu_->lastRanOnGpu());
    for (std::size_t i = 0; i < ws.size(); ++i) {
        std::vector<float> ref(ys[i].size(), NAN);
        cpu_->dequantGemm(x.data(), m, *cpu_->prepare(ws[i]), ref.data());
        const double err = normalizedError(ys[i], ref);
        qInfo("product %zu (%s): normalized error %.3g", i, formatName(*ws[i]).c_str(), err);
        QVERIFY2(err < (i == 1 ? kExactThreshold : kHalfMathThreshold), qPrintable(QString("error %1").arg(err)));
    }
}

QTEST_APPLESS_MAIN(TestGemvHalfMath)
#include "test_gemv_half_math.moc"
