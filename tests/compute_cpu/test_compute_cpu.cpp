// The CPU backend (Eigen) against naive double-precision loops written from the format
// definitions. f32 accumulation over K <= 512 lands near 1e-6; the threshold 1e-5 leaves room.
#include "compute_cpu/naive_reference.hpp"
#include "core/compute/backend.hpp"
#include "core/compute/cpu/dequant.hpp"
#include "core/compute/random_weights.hpp"
#include "common/test_support.hpp"

#include <QtTest/QtTest>

#include <algorithm>
#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {
constexpr double kGemmThreshold = 1e-5;
std::mt19937 freshRng() { return std::mt19937(std::random_device{}()); }
} // namespace

class TestComputeCpu : public QObject {
    Q_OBJECT
private slots:
    void dequantGemm_data();
    void dequantGemm();
    void knownQ4_0Block();
    void packedCodesStraddleWords();
    void rejectsInconsistentWeights();
    void w8a8MatchesIntegerDot();
    void hessianMatchesNaive();
    void channelStatsAccumulate();
    void histogramExactCounts();
    void histogramRejectsBadEdges();
};

void TestComputeCpu::dequantGemm_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("m");
    for (const auto& f : standardFormatNames())
        for (int m : {1, 5})
            QTest::newRow((f + " M=" + std::to_string(m)).c_str()) << QString::fromStdString(f) << m;
    QTest::newRow("int3-g32-sym-gidx M=3") << QString("int3-g32-sym-gidx") << 3;
    QTest::newRow("int2-g128-sym M=2") << QString("int2-g128-sym") << 2;
}

void TestComputeCpu::dequantGemm()
{
    QFETCH(QString, format);
    QFETCH(int, m);
    try {
        auto rng = freshRng();
        const int n = 40, k = 512;
        const auto w = randomWeights(format.toStdString(), n, k, rng);
        const auto x = randomNormal(std::size_t(m) * k, rng);
        std::vector<float> y(std::size_t(m) * n, NAN);
        auto cpu = makeCpuBackend();
        cpu->dequantGemm(x.data(), m, w, y.data());
        const auto ref = qs::test::naiveGemm(x, m, w);
        const double err = normalizedError(y, ref);
        qInfo("%s M=%d: normalized error %.3g", qPrintable(format), m, err);
        QVERIFY2(err < kGemmThreshold, qPrintable(QString("error %1").arg(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestComputeCpu::knownQ4_0Block()
{
    // d = 0.5 (f16 0x3800); byte j = (hi << 4) | lo with lo = j, hi = 15 - j.
    GgufBlocks w{1, 32, GgufBlockType::Q4_0, std::vector<std::uint8_t>(18)};
    w.raw[0] = 0x00;
    w.raw[1] = 0x38;
    for (int j = 0; j < 16; ++j)
        w.raw[std::size_t(2 + j)] = std::uint8_t(((15 - j) << 4) | j);
    std::vector<float> out(32);
    dequantRows(w, 0, 1, out.data());
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(out[std::size_t(j)], 0.5f * float(j - 8));
        QCOMPARE(out[std::size_t(j + 16)], 0.5f * float(15 - j - 8));
    }
}

void TestComputeCpu::packedCodesStraddleWords()
{
    // 3-bit codes 0..7 repeating: code 10 sits at bits 30..32, across two words.
    std::vector<std::uint32_t> row(3, 0);
    for (std::size_t k = 0; k < 32; ++k) {
        const std::uint32_t code = std::uint32_t(k % 8);
        for (int b = 0; b < 3; ++b)
            if (code >> b & 1u) {
                const std::size_t bit = k * 3 + std::size_t(b);
                row[bit / 32] |= 1u << (bit % 32);
            }
    }
    for (std::size_t k = 0; k < 32; ++k)
        QCOMPARE(packedCode(row.data(), k, 3), std::uint32_t(k % 8));
}

void TestComputeCpu::rejectsInconsistentWeights()
{
    auto rng = freshRng();
    auto g = randomGroupwise(8, 128, 4, 64, false, true, rng);
    g.gIdx[5] = 2;  // only groups 0, 1 exist
    QVERIFY_THROWS_EXCEPTION(ComputeError, validate(g));
    auto q = randomGguf(GgufBlockType::Q4_K, 4, 256, rng);
    q.raw.pop_back();
    QVERIFY_THROWS_EXCEPTION(ComputeError, validate(q));
    auto n = randomNf4(4, 96, false, rng);  // K not a multiple of 64
    QVERIFY_THROWS_EXCEPTION(ComputeError, validate(n));
    auto cpu = makeCpuBackend();
    std::vector<float> x(16, 1.0f), y(16);
    QVERIFY_THROWS_EXCEPTION(ComputeError, cpu->dequantGemm(x.data(), 1, WeightMatrix(q), y.data()));
}

void TestComputeCpu::w8a8MatchesIntegerDot()
{
    auto rng = freshRng();
    const int m = 6, n = 24, k = 200;
    const auto w = randomInt8PerChannel(n, k, rng);
    std::uniform_int_distribution<int> d(-127, 127);
    for (bool perToken : {true, false}) {
        Int8Activations x{m, k, std::vector<std::int8_t>(std::size_t(m) * k), randomNormal(perToken ? m : 1, rng)};
        for (auto& v : x.q)
            v = std::int8_t(d(rng));
        std::vector<float> y(std::size_t(m) * n, NAN);
        auto cpu = makeCpuBackend();
        auto pw = cpu->prepare(std::make_shared<WeightMatrix>(w));
        cpu->w8a8Gemm(x, *pw, y.data());
        std::vector<double> ref(y.size());
        for (int i = 0; i < m; ++i)
            for (int r = 0; r < n; ++r) {
                std::int64_t acc = 0;
                for (int c = 0; c < k; ++c)
                    acc += std::int64_t(x.q[std::size_t(i) * k + c]) * w.q[std::size_t(r) * k + c];
                ref[std::size_t(i) * n + r] = double(acc) * x.scale[perToken ? std::size_t(i) : 0] * w.scale[std::size_t(r)];
            }
        QVERIFY(normalizedError(y, ref) < 1e-6);
    }
}

void TestComputeCpu::hessianMatchesNaive()
{
    auto rng = freshRng();
    const int m = 37, k = 48;
    const auto x = randomNormal(std::size_t(m) * k, rng);
    auto h = randomNormal(std::size_t(k) * k, rng);  // accumulates onto existing values
    std::vector<double> ref(h.begin(), h.end());
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j)
            for (int r = 0; r < m; ++r)
                ref[std::size_t(i) * k + j] += double(x[std::size_t(r) * k + i]) * x[std::size_t(r) * k + j];
    makeCpuBackend()->hessianAccumulate(x.data(), m, k, h.data());
    QVERIFY(normalizedError(h, ref) < 1e-6);
}

void TestComputeCpu::channelStatsAccumulate()
{
    auto rng = freshRng();
    const int k = 33;
    ChannelStats acc(k);
    auto cpu = makeCpuBackend();
    std::vector<float> all;
    for (int m : {7, 12}) {
        const auto x = randomNormal(std::size_t(m) * k, rng, 3.0f);
        cpu->channelStats(x.data(), m, k, acc);
        all.insert(all.end(), x.begin(), x.end());
    }
    QCOMPARE(acc.rows, std::uint64_t(19));
    for (int c = 0; c < k; ++c) {
        double amax = 0, sa = 0, sq = 0;
        for (int r = 0; r < 19; ++r) {
            const double v = all[std::size_t(r) * k + c];
            amax = std::max(amax, std::fabs(v));
            sa += std::fabs(v);
            sq += v * v;
        }
        QCOMPARE(double(acc.absmax[std::size_t(c)]), amax);
        QVERIFY(std::fabs(acc.meanAbs(c) - sa / 19) < 1e-6 * (sa / 19));
        QVERIFY(std::fabs(acc.meanSq(c) - sq / 19) < 1e-6 * (sq / 19));
    }
}

void TestComputeCpu::histogramExactCounts()
{
    auto rng = freshRng();
    auto x = randomNormal(20000, rng, 2.0f);
    x[0] = NAN;
    std::vector<float> edges{-3.0f, -1.5f, -0.25f, 0.0f, 0.5f, 1.0f, 2.75f};
    x[1] = edges.back();  // belongs to the last bin
    x[2] = edges.front();
    Histogram h(edges);
    makeCpuBackend()->histogram(x, h);
    std::vector<std::uint64_t> ref(edges.size() - 1, 0);
    std::uint64_t below = 0, above = 0, nan = 0;
    for (float v : x) {
        if (std::isnan(v)) { ++nan; continue; }
        if (v < edges.front()) { ++below; continue; }
        if (v > edges.back()) { ++above; continue; }
        std::size_t i = 0;
        while (i + 1 < edges.size() - 1 && v >= edges[i + 1])
            ++i;
        ++ref[i];
    }
    QCOMPARE(h.nan, nan);
    QCOMPARE(h.below, below);
    QCOMPARE(h.above, above);
    for (std::size_t i = 0; i < ref.size(); ++i)
        QCOMPARE(h.counts[i], ref[i]);
}

void TestComputeCpu::histogramRejectsBadEdges()
{
    Histogram h(std::vector<float>{0.0f, 1.0f, 1.0f});
    std::vector<float> x{0.5f};
    QVERIFY_THROWS_EXCEPTION(ComputeError, makeCpuBackend()->histogram(x, h));
    Histogram inf(std::vector<float>{0.0f, INFINITY});
    QVERIFY_THROWS_EXCEPTION(ComputeError, makeCpuBackend()->histogram(x, inf));
}

QTEST_APPLESS_MAIN(TestComputeCpu)
#include "test_compute_cpu.moc"
