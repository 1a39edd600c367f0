// Every Vulkan kernel against its CPU twin on lavapipe (or whatever device QS_VULKAN_DEVICE
// picks), on fresh random inputs. Thresholds: f32 accumulation in another order stays near 1e-7,
// so dequant-GEMM and X^T X use 1e-5; integer kernels and histograms must match exactly
// (up to the final float scaling for W8A8: 1e-6).
#include "compute_cpu/naive_reference.hpp"
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <QtTest/QtTest>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstring>
#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {
constexpr double kGemmThreshold = 1e-5;
// On devices with cooperative matrices, batches from kCoopMinRows on round X and W to f16 on the
// tensor cores (f32 accumulation); test_vulkan_tensor_cores checks that path on every format.
constexpr double kCoopThreshold = 2e-3;
std::mt19937 freshRng() { return std::mt19937(std::random_device{}()); }
} // namespace

class TestComputeVulkan : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void listsDevices();
    void deviceOverrideAndCpuFallback();
    void dequantGemm_data();
    void dequantGemm();
    void gemvVariants_data();
    void gemvVariants();
    void dequantGemmSplitsBindings_data();
    void dequantGemmSplitsBindings();
    void unsupportedShapeFallsBackToCpu();
    void pipelineCacheOnDisk();
    void stagedTransfers();
    void w8a8_data();
    void w8a8();
    void hessian();
    void hessianSplitsRows();
    void channelStats();
    void histogram();
    void histogramManyBinsAndSplits();

private:
    void compareGemm(const std::string& format, int m, int n, int k, GemmPath expected);
    std::unique_ptr<VulkanBackend> gpu_;
    std::unique_ptr<Backend> cpu_ = makeCpuBackend();
    QString why_;
};

#define REQUIRE_GPU()                                                                                                  \
    if (!gpu_)                                                                                                         \
    QSKIP(qPrintable("no Vulkan device: " + why_))

void TestComputeVulkan::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    why_ = QString::fromStdString(why);
    if (gpu_)
        qInfo("%s", describeDevice(gpu_->device()).c_str());
}

void TestComputeVulkan::listsDevices()
{
    REQUIRE_GPU();
    const auto list = listVulkanDevices();
    QVERIFY2(list.error.empty(), list.error.c_str());
    QVERIFY(!list.devices.empty());
    int selected = 0;
    for (const auto& d : list.devices) {
        selected += d.selected ? 1 : 0;
        QVERIFY(!d.name.empty());
        QVERIFY(!d.heaps.empty());
        if (d.usable) {
            QVERIFY(d.subgroupSize > 0);
            QVERIFY(d.maxStorageBufferRange >= (1u << 27) - 1);
        }
    }
    QCOMPARE(selected, 1);
}

void TestComputeVulkan::deviceOverrideAndCpuFallback()
{
    REQUIRE_GPU();
    // By index: device 0 is selected.
    qputenv("QS_VULKAN_DEVICE", "0");
    const auto list = listVulkanDevices();
    QVERIFY(!list.devices.empty() && list.devices[0].selected == list.devices[0].usable);
    // A name that matches nothing: no Vulkan backend, a reason, and makeBackend gives the CPU.
    qputenv("QS_VULKAN_DEVICE", "no-such-device-xyz");
    std::string why;
    QVERIFY(VulkanBackend::create(&why) == nullptr);
    QVERIFY2(why.find("no-such-device-xyz") != std::string::npos, why.c_str());
    auto b = makeBackend(true);
    QVERIFY(!b->isGpu());
    qunsetenv("QS_VULKAN_DEVICE");
    QVERIFY(makeBackend(true)->isGpu());
}

// Formats that gemv.comp handles; the rest run the portable kernel at every batch.
static bool gemvFormat(const std::string& f)
{
    return f == "f16" || f == "bf16" || f == "int8" || f == "nf4" || f == "nf4-dq" || f == "Q4_K" ||
           (f.rfind("int4-", 0) == 0 && f.find("gidx") == std::string::npos);
}

// The path a batch of m rows should take on a device without cooperative matrices (lavapipe).
static GemmPath expectedPath(const std::string& f, int m) { return gemvFormat(f) && m <= kGemvMaxRows ? GemmPath::Gemv : GemmPath::Portable; }

void TestComputeVulkan::compareGemm(const std::string& format, int m, int n, int k, GemmPath expected)
{
    auto rng = freshRng();
    auto w = std::make_shared<const WeightMatrix>(randomWeights(format, n, k, rng));
    const auto x = randomNormal(std::size_t(m) * k, rng);
    std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
    auto pg = gpu_->prepare(w);
    gpu_->dequantGemm(x.data(), m, *pg, y.data());
    QVERIFY2(gpu_->lastRanOnGpu(), "fell back to the CPU");
    if (!gpu_->hasCooperativeMatrix() || m < kCoopMinRows)
        QCOMPARE(gemmPathName(gpu_->lastGemmPath()), gemmPathName(expected));
    cpu_->dequantGemm(x.data(), m, *cpu_->prepare(w), ref.data());
    const double err = normalizedError(y, ref);
    qInfo("%s M=%d N=%d K=%d: normalized error %.3g", format.c_str(), m, n, k, err);
    // f16 rounding: the cooperative-matrix GEMM, and on GPUs the packed-f16 int4 GEMV by default.
    const bool f16 = gpu_->lastGemmPath() == GemmPath::CoopMatrix || gpu_->lastGemvHalfMath();
    QVERIFY2(err < (f16 ? kCoopThreshold : kGemmThreshold), qPrintable(QString("error %1").arg(err)));
}

void TestComputeVulkan::dequantGemm_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("m");
    for (const auto& f : standardFormatNames())
        for (int m : {1, 11, 40})
            QTest::newRow((f + " M=" + std::to_string(m)).c_str()) << QString::fromStdString(f) << m;
    QTest::newRow("int3-g32-sym-gidx M=3") << QString("int3-g32-sym-gidx") << 3;
    QTest::newRow("int2-g128-sym M=2") << QString("int2-g128-sym") << 2;
    QTest::newRow("int4-g64-asym M=9") << QString("int4-g64-asym") << 9;
}

void TestComputeVulkan::dequantGemm()
{
    REQUIRE_GPU();
    QFETCH(QString, format);
    QFETCH(int, m);
    try {
        compareGemm(format.toStdString(), m, 72, 512, expectedPath(format.toStdString(), m));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestComputeVulkan::gemvVariants_data()
{
    // Workgroup sizes, loads in flight, and the shared-memory reduction in place of subgroupAdd
    // (devices whose subgroups do not match one weight row's threads); rows of X 1..32 and row
    // counts that leave a workgroup partly empty.
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("workgroup");
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("subgroupAdd");
    QTest::addColumn<int>("m");
    QTest::addColumn<bool>("prefetch");
    QTest::addColumn<int>("lanes");  // threads per row group; 0: one subgroup
    QTest::newRow("int4-g128-sym wg32 r1 sg") << QString("int4-g128-sym") << 32 << 1 << true << 1 << true << 0;
    QTest::newRow("int4-g32-asym wg256 r3 shared") << QString("int4-g32-asym") << 256 << 3 << false << 8 << true << 0;
    QTest::newRow("int4-g64-sym wg64 r4 shared M=32 no prefetch") << QString("int4-g64-sym") << 64 << 4 << false << 32 << false << 0;
    QTest::newRow("int4-g128-asym wg128 r8 sg M=5 no prefetch") << QString("int4-g128-asym") << 128 << 8 << true << 5 << false << 0;
    QTest::newRow("int8 wg128 r8 sg M=17") << QString("int8") << 128 << 8 << true << 17 << true << 0;
    QTest::newRow("int8 wg64 r2 shared M=2") << QString("int8") << 64 << 2 << false << 2 << true << 0;
    QTest::newRow("f16 wg256 r1 shared M=7") << QString("f16") << 256 << 1 << false << 7 << true << 0;
    QTest::newRow("bf16 wg32 r2 sg M=3") << QString("bf16") << 32 << 2 << true << 3 << true << 0;
    QTest::newRow("nf4 wg64 r3 shared M=4") << QString("nf4") << 64 << 3 << false << 4 << false << 0;
    QTest::newRow("nf4-dq wg32 r1 sg M=9") << QString("nf4-dq") << 32 << 1 << true << 9 << false << 0;
    // Several subgroups split one group's K (more threads for few weight rows).
    QTest::newRow("int4-g128-sym wg128 r4 lanes64") << QString("int4-g128-sym") << 128 << 4 << true << 1 << false << 64;
    QTest::newRow("int4-g32-asym wg128 r2 lanes128 M=3") << QString("int4-g32-asym") << 128 << 2 << true << 3 << false << 128;
    QTest::newRow("int8 wg256 r4 lanes64") << QString("int8") << 256 << 4 << true << 1 << false << 64;
    QTest::newRow("f16 wg64 r16 lanes64") << QString("f16") << 64 << 16 << true << 1 << false << 64;
    QTest::newRow("nf4-dq wg128 r4 lanes64") << QString("nf4-dq") << 128 << 4 << true << 1 << false << 64;
    QTest::newRow("Q4_K wg64 r3 shared M=6") << QString("Q4_K") << 64 << 3 << false << 6 << false << 0;
    QTest::newRow("Q4_K wg128 r4 lanes64 M=1") << QString("Q4_K") << 128 << 4 << true << 1 << false << 64;
    QTest::newRow("Q4_K wg32 r1 sg M=32") << QString("Q4_K") << 32 << 1 << true << 32 << false << 0;
}

void TestComputeVulkan::gemvVariants()
{
    REQUIRE_GPU();
    QFETCH(QString, format);
    QFETCH(int, workgroup);
    QFETCH(int, rows);
    QFETCH(bool, subgroupAdd);
    QFETCH(int, m);
    QFETCH(bool, prefetch);
    QFETCH(int, lanes);
    try {
        GemvTuning t;
        t.prefetch = prefetch;
        t.lanes = std::uint32_t(lanes);
        t.workgroup = std::uint32_t(workgroup);
        t.rows = std::uint32_t(rows);
        t.subgroupAdd = subgroupAdd;
        t.mma = false;  // gemv.comp itself (test_vulkan_tensor_cores covers gemv_mma.comp)
        gpu_->setGemvTuning(t);
        compareGemm(format.toStdString(), m, 83, 1024, GemmPath::Gemv);
        gpu_->setGemvTuning(GemvTuning{});
    } catch (const std::exception& e) {
        gpu_->setGemvTuning(GemvTuning{});
        QFAIL(e.what());
    }
}

void TestComputeVulkan::dequantGemmSplitsBindings_data()
{
    QTest::addColumn<QString>("format");
    for (const char* f : {"f16", "int8", "int4-g128-asym-gidx", "int3-g64-sym", "nf4", "nf4-dq", "Q4_0", "Q4_K", "Q6_K"})
        QTest::newRow(f) << QString(f);
}

void TestComputeVulkan::dequantGemmSplitsBindings()
{
    REQUIRE_GPU();
    QFETCH(QString, format);
    try {
        // 8 KiB bindings: weights, X and Y all split into many chunks.
        gpu_->setMaxBindingBytesForTesting(8192);
        compareGemm(format.toStdString(), 37, 300, 512, GemmPath::Portable);
        if (gemvFormat(format.toStdString()))
            compareGemm(format.toStdString(), 5, 300, 512, GemmPath::Gemv);
        gpu_->setMaxBindingBytesForTesting(~0ull);
    } catch (const std::exception& e) {
        gpu_->setMaxBindingBytesForTesting(~0ull);
        QFAIL(e.what());
    }
}

void TestComputeVulkan::stagedTransfers()
{
    // The discrete-GPU path: weights, X, Y, H and counts all move through the staging buffer
    // (a 70 MB tensor also crosses its 64 MB chunking), with timestamps only on compute.
    REQUIRE_GPU();
    gpu_->setForceStagingForTesting(true);
    try {
        compareGemm("int4-g128-asym", 3, 40, 256, GemmPath::Gemv);
        compareGemm("f16", 70, 96, 256, GemmPath::Portable);  // X and Y staged inside the GEMM's submission
        auto rng = freshRng();
        const auto x = randomNormal(std::size_t(70) << 18, rng);  // 70 MiB of floats
        std::vector<float> edges{-2.0f, -0.5f, 0.0f, 0.7f, 3.0f};
        Histogram g(edges), c(edges);
        gpu_->histogram(x, g);
        QVERIFY(gpu_->lastRanOnGpu());
        QVERIFY(gpu_->lastKernelMs() > 0);
        cpu_->histogram(x, c);
        for (std::size_t i = 0; i < c.counts.size(); ++i)
            QCOMPARE(g.counts[i], c.counts[i]);
    } catch (const std::exception& e) {
        gpu_->setForceStagingForTesting(false);
        QFAIL(e.what());
    }
    gpu_->setForceStagingForTesting(false);
}

void TestComputeVulkan::unsupportedShapeFallsBackToCpu()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    auto w = std::make_shared<const WeightMatrix>(randomDenseHalf(10, 40, false, rng));  // K % 32 != 0
    const auto x = randomNormal(2 * 40, rng);
    std::vector<float> y(20, NAN), ref(20, NAN);
    gpu_->dequantGemm(x.data(), 2, *gpu_->prepare(w), y.data());
    QVERIFY(!gpu_->lastRanOnGpu());
    cpu_->dequantGemm(x.data(), 2, *w, ref.data());
    QVERIFY(normalizedError(y, ref) < kGemmThreshold);
}

void TestComputeVulkan::pipelineCacheOnDisk()
{
    // A backend writes its compiled pipelines to $XDG_CACHE_HOME/quantscope when it goes away;
    // a corrupt cache file is ignored (and replaced), never fatal.
    REQUIRE_GPU();
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QByteArray oldCache = qgetenv("XDG_CACHE_HOME");
    qputenv("XDG_CACHE_HOME", tmp.path().toUtf8());
    auto run = [&] {
        std::string why;
        auto b = VulkanBackend::create(&why);
        QVERIFY2(b, why.c_str());
        auto rng = freshRng();
        auto w = std::make_shared<const WeightMatrix>(randomWeights("int8", 40, 256, rng));
        const auto x = randomNormal(256, rng);
        std::vector<float> y(40, NAN), ref(40, NAN);
        b->dequantGemm(x.data(), 1, *b->prepare(w), y.data());
        QVERIFY(b->lastRanOnGpu());
        cpu_->dequantGemm(x.data(), 1, *w, ref.data());
        QVERIFY(normalizedError(y, ref) < kGemmThreshold);
    };
    auto restore = [&] {
        if (oldCache.isEmpty())
            qunsetenv("XDG_CACHE_HOME");
        else
            qputenv("XDG_CACHE_HOME", oldCache);
    };
    auto cacheFiles = [&] { return QDir(tmp.path() + "/quantscope").entryInfoList({"vk-pipelines-*.bin"}, QDir::Files); };
    try {
        run();
        auto files = cacheFiles();
        QCOMPARE(files.size(), 1);
        QVERIFY(files[0].size() > 0);
        {
            QFile f(files[0].absoluteFilePath());
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("not a pipeline cache");
        }
        run();
        files = cacheFiles();
        QCOMPARE(files.size(), 1);
        QVERIFY(files[0].size() > qint64(std::strlen("not a pipeline cache")));
    } catch (const std::exception& e) {
        restore();
        QFAIL(e.what());
    }
    restore();
}

void TestComputeVulkan::w8a8_data()
{
    // Decode sizes take gemv.comp FMT_W8A8 (int8 X and W as exact floats), larger ones the
    // portable kernel (int32 sums) on devices without int8 cooperative matrices; work splits of
    // the GEMV as for the other formats, and K long enough that a thread's sum passes 2^24.
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("workgroup");
    QTest::addColumn<int>("lanes");
    QTest::addColumn<bool>("subgroupAdd");
    QTest::newRow("M=13 K=384") << 13 << 384 << 128 << 0 << true;
    QTest::newRow("M=1 K=1024 lanes64") << 1 << 1024 << 128 << 64 << true;
    QTest::newRow("M=32 K=512 wg32 shared") << 32 << 512 << 32 << 0 << false;
    QTest::newRow("M=3 K=16384") << 3 << 16384 << 128 << 0 << true;
    QTest::newRow("M=40 K=384 portable") << 40 << 384 << 128 << 0 << true;
}

void TestComputeVulkan::w8a8()
{
    REQUIRE_GPU();
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, workgroup);
    QFETCH(int, lanes);
    QFETCH(bool, subgroupAdd);
    auto rng = freshRng();
    const int n = 50;
    auto w = std::make_shared<const WeightMatrix>(randomInt8PerChannel(n, k, rng));
    std::uniform_int_distribution<int> d(-127, 127);
    GemvTuning t;
    t.workgroup = std::uint32_t(workgroup);
    t.lanes = std::uint32_t(lanes);
    t.subgroupAdd = subgroupAdd;
    gpu_->setGemvTuning(t);
    for (bool perToken : {true, false}) {
        Int8Activations x{m, k, std::vector<std::int8_t>(std::size_t(m) * k), randomNormal(perToken ? m : 1, rng)};
        for (auto& v : x.q)
            v = std::int8_t(d(rng));
        std::vector<float> y(std::size_t(m) * n, NAN), ref(y.size(), NAN);
        gpu_->w8a8Gemm(x, *gpu_->prepare(w), y.data());
        QVERIFY(gpu_->lastRanOnGpu());
        if (!gpu_->hasInt8CooperativeMatrix() || m < kCoopMinRows)
            QCOMPARE(gpu_->lastW8a8Path(), std::string(m <= kGemvMaxRows ? "gemv" : "portable"));
        cpu_->w8a8Gemm(x, *cpu_->prepare(w), ref.data());
        const double err = normalizedError(y, ref);
        qInfo("w8a8 %s %s: normalized error %.3g", perToken ? "per-token" : "per-tensor", gpu_->lastW8a8Path().c_str(), err);
        QVERIFY(err < 1e-6);
    }
    gpu_->setGemvTuning(GemvTuning{});
}

void TestComputeVulkan::hessian()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const int m = 150, k = 200;  // not multiples of the 64x64 tile or the 16-row step
    const auto x = randomNormal(std::size_t(m) * k, rng);
    auto h = randomNormal(std::size_t(k) * k, rng);  // accumulates onto what is there
    auto ref = h;
    gpu_->hessianAccumulate(x.data(), m, k, h.data());
    QVERIFY(gpu_->lastRanOnGpu());
    cpu_->hessianAccumulate(x.data(), m, k, ref.data());
    const double err = normalizedError(h, ref);
    qInfo("hessian: normalized error %.3g", err);
    QVERIFY(err < kGemmThreshold);
}

void TestComputeVulkan::hessianSplitsRows()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const int m = 90, k = 160;
    const auto x = randomNormal(std::size_t(m) * k, rng);
    std::vector<float> h(std::size_t(k) * k, 0.5f), ref = h;
    gpu_->setMaxBindingBytesForTesting(64 * k * 4);  // X in 64-row chunks, H in 64-row chunks
    gpu_->hessianAccumulate(x.data(), m, k, h.data());
    gpu_->setMaxBindingBytesForTesting(~0ull);
    QVERIFY(gpu_->lastRanOnGpu());
    cpu_->hessianAccumulate(x.data(), m, k, ref.data());
    QVERIFY(normalizedError(h, ref) < kGemmThreshold);
}

void TestComputeVulkan::channelStats()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const int m = 300, k = 77;
    ChannelStats g(k), c(k);
    for (int round = 0; round < 2; ++round) {
        const auto x = randomNormal(std::size_t(m) * k, rng, 2.0f);
        gpu_->channelStats(x.data(), m, k, g);
        QVERIFY(gpu_->lastRanOnGpu());
        cpu_->channelStats(x.data(), m, k, c);
    }
    QCOMPARE(g.rows, c.rows);
    for (int i = 0; i < k; ++i) {
        QCOMPARE(g.absmax[std::size_t(i)], c.absmax[std::size_t(i)]);
        QVERIFY(std::fabs(g.meanAbs(i) - c.meanAbs(i)) <= 1e-5 * c.meanAbs(i));
        QVERIFY(std::fabs(g.meanSq(i) - c.meanSq(i)) <= 1e-5 * c.meanSq(i));
    }
}

static void compareHistograms(const Histogram& a, const Histogram& b)
{
    QCOMPARE(a.below, b.below);
    QCOMPARE(a.above, b.above);
    QCOMPARE(a.nan, b.nan);
    QCOMPARE(a.counts.size(), b.counts.size());
    for (std::size_t i = 0; i < a.counts.size(); ++i)
        QCOMPARE(a.counts[i], b.counts[i]);
}

void TestComputeVulkan::histogram()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    auto x = randomNormal(300000, rng, 1.5f);
    x[10] = NAN;
    std::vector<float> edges;
    for (int i = 0; i <= 100; ++i)
        edges.push_back(-4.0f + 0.08f * float(i));
    x[11] = edges.back();
    x[12] = edges.front();
    Histogram g(edges), c(edges);
    gpu_->histogram(x, g);
    QVERIFY(gpu_->lastRanOnGpu());
    cpu_->histogram(x, c);
    compareHistograms(g, c);
}

void TestComputeVulkan::histogramManyBinsAndSplits()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const auto x = randomNormal(200000, rng);
    // 5000 uneven bins do not fit shared memory (global atomics path).
    auto sorted = randomNormal(5001, rng, 1.2f);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    Histogram g(sorted), c(sorted);
    gpu_->setMaxBindingBytesForTesting(64 * 1024);  // x in 16K-element chunks
    gpu_->histogram(x, g);
    gpu_->setMaxBindingBytesForTesting(~0ull);
    QVERIFY(gpu_->lastRanOnGpu());
    cpu_->histogram(x, c);
    compareHistograms(g, c);
}

QTEST_APPLESS_MAIN(TestComputeVulkan)
#include "test_compute_vulkan.moc"
