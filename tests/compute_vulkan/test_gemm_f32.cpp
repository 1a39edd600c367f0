// Backend::gemmF32 on Vulkan (gemm_f32.comp) against the CPU backend's (Eigen) and both against
// a naive double product, on fresh random blocks of larger matrices (row and column offsets,
// an output row stride wider than N), odd shapes, A and B plain and transposed, both tile sizes,
// through the staging buffer, and with bindings so small (32 KiB) that A, B and C are split over many
// dispatches (K summed in pieces). Normalized error threshold 1e-6 (f32 sums in another order
// stay near 1e-7 at these K). Also: block writes and reads round-trip, bad blocks throw.
#include "compute_cpu/naive_reference.hpp"
#include "core/compute/cpu/cpu_backend.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <QtTest/QtTest>

#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {

constexpr double kThreshold = 1e-6;

std::vector<float> randomArray(std::size_t count, std::mt19937& rng)
{
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> v(count);
    for (auto& x : v)
        x = g(rng);
    return v;
}

// A rows x cols matrix on backend filled with fresh random values; host copy in `host`.
std::unique_ptr<F32Matrix> randomMatrix(Backend& backend, int rows, int cols, std::mt19937& rng, std::vector<float>& host)
{
    host = randomArray(std::size_t(rows) * std::size_t(cols), rng);
    auto m = backend.makeF32Matrix(rows, cols);
    backend.writeF32(*m, 0, 0, rows, cols, host.data(), cols);
    return m;
}

} // namespace

class TestGemmF32 : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesCpu_data();
    void matchesCpu();
    void blockWritesAndReads();
    void badArgumentsThrow();

private:
    std::unique_ptr<VulkanBackend> gpu_;
    QString why_;
};

void TestGemmF32::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    why_ = QString::fromStdString(why);
}

void TestGemmF32::matchesCpu_data()
{
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("transA");
    QTest::addColumn<bool>("transB");
    QTest::addColumn<int>("tile");
    QTest::addColumn<bool>("staging");
    QTest::addColumn<int>("maxBinding");
    const int shapes[][3] = {{1, 1, 1}, {37, 129, 65}, {130, 77, 200}, {64, 64, 64}, {257, 300, 131}};
    auto name = [](const QString& what, bool ta, bool tb) {
        return what + (ta ? " A^T" : "") + (tb ? " B^T" : "");
    };
    for (const auto& s : shapes)
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (int tile : {1, 2})
                    QTest::newRow(qPrintable(name(QString("%1x%2x%3 tile%4").arg(s[0]).arg(s[1]).arg(s[2]).arg(tile), ta, tb)))
                        << s[0] << s[1] << s[2] << ta << tb << tile << false << 0;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            QTest::newRow(qPrintable(name("staged", ta, tb))) << 130 << 77 << 200 << ta << tb << 0 << true << 0;
            QTest::newRow(qPrintable(name("32 KiB bindings", ta, tb))) << 257 << 300 << 131 << ta << tb << 1 << false << 32768;
        }
}

void TestGemmF32::matchesCpu()
{
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(bool, transA);
    QFETCH(bool, transB);
    QFETCH(int, tile);
    QFETCH(bool, staging);
    QFETCH(int, maxBinding);
    if (!gpu_)
        QSKIP(qPrintable("no Vulkan device: " + why_));
    gpu_->setGemmF32Tile(tile);
    gpu_->setForceStagingForTesting(staging);
    gpu_->setMaxBindingBytesForTesting(maxBinding ? std::uint64_t(maxBinding) : ~std::uint64_t(0));
    auto cpu = makeCpuBackend();
    std::mt19937 rng(std::random_device{}());

    // A and B as blocks of larger matrices at offsets, so strides and offsets are exercised.
    const int aRows = (transA ? k : m) + 5, aCols = (transA ? m : k) + 3, bRows = (transB ? n : k) + 4, bCols = (transB ? k : n) + 7;
    std::vector<float> ha, hb;
    auto ga = randomMatrix(*gpu_, aRows, aCols, rng, ha);
    auto gb = randomMatrix(*gpu_, bRows, bCols, rng, hb);
    auto ca = cpu->makeF32Matrix(aRows, aCols);
    auto cb = cpu->makeF32Matrix(bRows, bCols);
    cpu->writeF32(*ca, 0, 0, aRows, aCols, ha.data(), aCols);
    cpu->writeF32(*cb, 0, 0, bRows, bCols, hb.data(), bCols);
    const int ar = 3, ac = 2, br = 1, bc = 4;
    const int aBlockRows = transA ? k : m, aBlockCols = transA ? m : k;
    const int bBlockRows = transB ? n : k, bBlockCols = transB ? k : n;

    const std::int64_t ldc = n + 2;
    std::vector<float> yGpu(std::size_t(m) * std::size_t(ldc), -7.0f), yCpu(yGpu.size(), -7.0f);
    gpu_->gemmF32({ga.get(), ar, ac, aBlockRows, aBlockCols}, transA, {gb.get(), br, bc, bBlockRows, bBlockCols}, transB,
                  yGpu.data(), ldc);
    const bool ranOnGpu = gpu_->lastRanOnGpu();
    cpu->gemmF32({ca.get(), ar, ac, aBlockRows, aBlockCols}, transA, {cb.get(), br, bc, bBlockRows, bBlockCols}, transB,
                 yCpu.data(), ldc);
    gpu_->setForceStagingForTesting(false);
    gpu_->setMaxBindingBytesForTesting(~std::uint64_t(0));
    gpu_->setGemmF32Tile(0);
    QVERIFY2(ranOnGpu, "the product fell back to the CPU");

    std::vector<double> ref(std::size_t(m) * std::size_t(n));
    std::vector<float> outGpu(ref.size()), outCpu(ref.size());
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int l = 0; l < k; ++l) {
                const double av = transA ? ha[std::size_t(ar + l) * aCols + std::size_t(ac + i)]
                                         : ha[std::size_t(ar + i) * aCols + std::size_t(ac + l)];
                const double bv = transB ? hb[std::size_t(br + j) * bCols + std::size_t(bc + l)]
                                         : hb[std::size_t(br + l) * bCols + std::size_t(bc + j)];
                s += av * bv;
            }
            ref[std::size_t(i) * n + std::size_t(j)] = s;
            outGpu[std::size_t(i) * n + std::size_t(j)] = yGpu[std::size_t(i) * std::size_t(ldc) + std::size_t(j)];
            outCpu[std::size_t(i) * n + std::size_t(j)] = yCpu[std::size_t(i) * std::size_t(ldc) + std::size_t(j)];
        }
    // The padding past N in each output row is left alone.
    for (int i = 0; i < m; ++i)
        for (std::int64_t j = n; j < ldc; ++j)
            QCOMPARE(yGpu[std::size_t(i) * std::size_t(ldc) + std::size_t(j)], -7.0f);
    const double eGpu = normalizedError(outGpu, ref), eCpu = normalizedError(outCpu, ref),
                 eTwin = normalizedError(outGpu, outCpu);
    qInfo("normalized error: vulkan %.3g, cpu %.3g (vs double), vulkan vs cpu %.3g", eGpu, eCpu, eTwin);
    QVERIFY2(eCpu < kThreshold, qPrintable(QString("cpu vs double: %1").arg(eCpu)));
    QVERIFY2(eGpu < kThreshold, qPrintable(QString("vulkan vs double: %1").arg(eGpu)));
    QVERIFY2(eTwin < kThreshold, qPrintable(QString("vulkan vs cpu: %1").arg(eTwin)));
}

void TestGemmF32::blockWritesAndReads()
{
    if (!gpu_)
        QSKIP(qPrintable("no Vulkan device: " + why_));
    std::mt19937 rng(std::random_device{}());
    for (bool staging : {false, true}) {
        gpu_->setForceStagingForTesting(staging);
        const int rows = 23, cols = 41;
        std::vector<float> host;
        auto mat = randomMatrix(*gpu_, rows, cols, rng, host);
        // Overwrite a 7x9 block at (5, 11) from a strided source, then read the whole back.
        const std::vector<float> block = randomArray(7 * 12, rng);
        gpu_->writeF32(*mat, 5, 11, 7, 9, block.data(), 12);
        for (int r = 0; r < 7; ++r)
            for (int c = 0; c < 9; ++c)
                host[std::size_t(5 + r) * cols + std::size_t(11 + c)] = block[std::size_t(r) * 12 + std::size_t(c)];
        std::vector<float> back(host.size(), 0.0f);
        gpu_->readF32(*mat, 0, 0, rows, cols, back.data(), cols);
        QVERIFY(back == host);
        // A block read at a stride wider than its columns.
        std::vector<float> part(4 * 10, -1.0f);
        gpu_->readF32(*mat, 2, 30, 4, 8, part.data(), 10);
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 10; ++c)
                QCOMPARE(part[std::size_t(r) * 10 + std::size_t(c)],
                         c < 8 ? host[std::size_t(2 + r) * cols + std::size_t(30 + c)] : -1.0f);
    }
    gpu_->setForceStagingForTesting(false);
    // A fresh matrix reads as zeros.
    auto fresh = gpu_->makeF32Matrix(3, 5);
    std::vector<float> z(15, 1.0f);
    gpu_->readF32(*fresh, 0, 0, 3, 5, z.data(), 5);
    QVERIFY(std::all_of(z.begin(), z.end(), [](float v) { return v == 0.0f; }));
}

void TestGemmF32::badArgumentsThrow()
{
    auto cpu = makeCpuBackend();
    std::vector<Backend*> backends{cpu.get()};
    if (gpu_)
        backends.push_back(gpu_.get());
    for (Backend* b : backends) {
        auto a = b->makeF32Matrix(4, 6), c = b->makeF32Matrix(6, 5);
        std::vector<float> out(64), src(64);
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->makeF32Matrix(0, 3));
        // Inner dimensions differ, a block past the edge, a short output stride, null output.
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({a.get(), 0, 0, 4, 5}, false, {c.get(), 0, 0, 6, 5}, false, out.data(), 5));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({a.get(), 1, 0, 4, 6}, false, {c.get(), 0, 0, 6, 5}, false, out.data(), 5));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({a.get(), 0, 0, 4, 6}, false, {c.get(), 0, 0, 6, 5}, false, out.data(), 4));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({a.get(), 0, 0, 4, 6}, false, {c.get(), 0, 0, 6, 5}, false, nullptr, 5));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({nullptr, 0, 0, 4, 6}, false, {c.get(), 0, 0, 6, 5}, false, out.data(), 5));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->writeF32(*a, 3, 0, 2, 6, src.data(), 6));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->writeF32(*a, 0, 0, 2, 6, src.data(), 5));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->readF32(*a, 0, 4, 1, 3, out.data(), 3));
        // a^T is 6 x 4: its 4 columns do not meet b's 6 rows.
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->gemmF32({a.get(), 0, 0, 4, 6}, true, {c.get(), 0, 0, 6, 5}, false, out.data(), 5));
        // A valid product after the failures still works.
        b->gemmF32({a.get(), 0, 0, 4, 6}, false, {c.get(), 0, 0, 6, 5}, false, out.data(), 5);
        QCOMPARE(out[0], 0.0f); // zero-filled matrices
    }
}

QTEST_GUILESS_MAIN(TestGemmF32)
#include "test_gemm_f32.moc"
