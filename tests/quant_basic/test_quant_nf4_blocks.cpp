// NF4/FP4 blocks as bitsandbytes' quantize_4bit computes them: a block of 64 hand-made values
// (every level, every midpoint tie, one ulp above each) against codes worked out by hand; the
// packed compute format dequantizing to level * absmax; double quantization of the absmax
// constants reconstructed within the dynamic map's resolution; bits per weight.
#include "core/compute/weight_formats.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/nf4_blockwise.hpp"
#include "core/quant/nf4_codebooks.hpp"

#include <QtTest/QtTest>

#include <Eigen/Core>

#include <cmath>
#include <random>

using namespace qs;
using runtime::Mat;

namespace {

// 64 values with absmax 2 (so x * (1/absmax) is exact) and their codes by construction:
// 2 * level i -> i; 2 * midpoint(i, i+1) -> i (a tie goes down); one ulp above it -> i + 1;
// then hand-picked values.
void handBlock(std::vector<float>& values, std::vector<int>& codes)
{
    for (int i = 0; i < 16; ++i) {
        values.push_back(2.0f * compute::kNf4Levels[std::size_t(i)]);
        codes.push_back(i);
    }
    for (int i = 0; i < 15; ++i) {
        const float t = quant::kNf4Thresholds[std::size_t(i)];
        values.push_back(2.0f * t);
        codes.push_back(i);
        values.push_back(2.0f * std::nextafter(t, 2.0f));
        codes.push_back(i + 1);
    }
    // x / 2 against the thresholds (-0.848 -0.611 -0.460 -0.340 -0.235 -0.138 -0.046 | 0.040
    // 0.120 0.204 0.292 0.389 0.502 0.643 0.861): the code counts the thresholds below x / 2.
    const std::pair<float, int> hand[] = {{1.0f, 12}, {1.2f, 13}, {1.9f, 15}, {-0.2f, 6}, {-1.4f, 1}, {0.08f, 8},
                                          {-0.09f, 7}, {0.0f, 7},  {0.3f, 9},  {-0.3f, 5}, {0.5f, 10},  {-0.5f, 4},
                                          {0.7f, 11},  {-0.7f, 3}, {0.85f, 12}, {-0.85f, 3}, {1.5f, 14}, {-1.8f, 0}};
    for (const auto& [v, c] : hand) {
        values.push_back(v);
        codes.push_back(c);
    }
}

} // namespace

class TestQuantNf4Blocks : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { Eigen::setNbThreads(1); } // suites run side by side on 2 cores in CI
    void handBlockCodes();
    void packedFormatDequantizes();
    void doubleQuantReconstruction();
    void fp4Blocks();
    void bitsPerWeight();
};

void TestQuantNf4Blocks::handBlockCodes()
{
    std::vector<float> v;
    std::vector<int> expected;
    handBlock(v, expected);
    QCOMPARE(v.size(), std::size_t(64));
    const auto r = quant::quantizeFourBitBlocks(v.data(), v.size(), 64, quant::FourBitType::Nf4);
    QCOMPARE(r.absmax.size(), std::size_t(1));
    QCOMPARE(r.absmax[0], 2.0f);
    for (std::size_t i = 0; i < v.size(); ++i)
        QVERIFY2(int(r.codes[i]) == expected[i],
                 qPrintable(QString("value %1 (#%2): code %3, expected %4").arg(double(v[i]), 0, 'g', 9).arg(i).arg(r.codes[i]).arg(expected[i])));
    // An all-zero block: absmax 0, every code the zero level.
    const std::vector<float> zeros(64, 0.0f);
    const auto z = quant::quantizeFourBitBlocks(zeros.data(), zeros.size(), 64, quant::FourBitType::Nf4);
    QCOMPARE(z.absmax[0], 0.0f);
    QCOMPARE(int(z.codes[5]), 7);
}

void TestQuantNf4Blocks::packedFormatDequantizes()
{
    try {
        // Two rows: the hand block and the same values scaled by -3 (absmax 6, codes mirrored
        // only where the table is symmetric, so compare against level * absmax directly).
        std::vector<float> v;
        std::vector<int> codes;
        handBlock(v, codes);
        Mat w(2, 64);
        for (int c = 0; c < 64; ++c) {
            w(0, c) = v[std::size_t(c)];
            w(1, c) = -3.0f * v[std::size_t(c)];
        }
        const auto q = quant::quantizeNf4(w, false);
        QCOMPARE(q.absmax.size(), std::size_t(2));
        QCOMPARE(q.absmax[0], 2.0f);
        QCOMPARE(q.absmax[1], 6.0f);
        const Mat dq = quant::dequantize(q);
        for (int c = 0; c < 64; ++c)
            QCOMPARE(dq(0, c), compute::kNf4Levels[std::size_t(codes[std::size_t(c)])] * 2.0f);
        const auto r1 = quant::quantizeFourBitBlocks(w.row(1).data(), 64, 64, quant::FourBitType::Nf4);
        for (int c = 0; c < 64; ++c)
            QCOMPARE(dq(1, c), compute::kNf4Levels[r1.codes[std::size_t(c)]] * 6.0f);
        // Nearest level: every dequantized value within half the widest gap (-1 to -0.6962) * absmax.
        QVERIFY(((dq - w).row(0).cwiseAbs().maxCoeff()) <= 0.5f * (1.0f - 0.6961928f) * 2.0f + 1e-6f);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantNf4Blocks::doubleQuantReconstruction()
{
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> u(0.01f, 0.3f);
    std::vector<float> absmax(600); // 3 blocks of 256, the last one partial (88)
    for (auto& a : absmax)
        a = u(rng);
    const auto dq = quant::doubleQuantize(absmax, 256);
    QCOMPARE(dq.codes.size(), absmax.size());
    QCOMPARE(dq.scales.size(), std::size_t(3));
    double mean = 0;
    for (float a : absmax)
        mean += a;
    mean /= double(absmax.size());
    QVERIFY(std::fabs(double(dq.offset) - mean) < 1e-6);
    for (std::size_t b = 0; b < 3; ++b) {
        float m = 0;
        for (std::size_t i = b * 256; i < std::min<std::size_t>(600, (b + 1) * 256); ++i)
            m = std::max(m, std::fabs(absmax[i] - dq.offset));
        QCOMPARE(dq.scales[b], m);
    }
    const auto rec = quant::reconstructAbsmax(dq, 256);
    const auto& map = quant::dynamicMap8Bit();
    for (std::size_t i = 0; i < absmax.size(); ++i) {
        const float s = dq.scales[i / 256];
        // The map's widest gap is 0.0140625 (64 steps over [0.1, 1]): half of it, scaled.
        QVERIFY2(std::fabs(rec[i] - absmax[i]) <= 0.5f * 0.0140625f * s + 1e-7f, qPrintable(QString::number(i)));
        // And the code is the nearest map entry to (absmax - offset) / scale.
        const float x = (absmax[i] - dq.offset) / s;
        float best = INFINITY;
        for (float m : map)
            best = std::min(best, std::fabs(m - x));
        QVERIFY(std::fabs(map[dq.codes[i]] - x) <= best + 1e-6f);
    }
    // Through the compute format: the same reconstruction.
    Mat w(8, 512); // 64 blocks of 64
    std::normal_distribution<float> g(0.0f, 0.05f);
    for (Eigen::Index i = 0; i < w.size(); ++i)
        w.data()[i] = g(rng);
    const auto plain = quant::quantizeNf4(w, false);
    const auto nested = quant::quantizeNf4(w, true);
    QVERIFY(nested.doubleQuant);
    QCOMPARE(nested.absmaxScale.size(), std::size_t(1));
    const Mat a = quant::dequantize(plain), b = quant::dequantize(nested);
    const double rel = double((a - b).norm() / a.norm());
    QVERIFY2(rel < 0.01, qPrintable(QString::number(rel))); // absmax off by < 0.7% of the spread
    const double err = double((b - w).norm() / w.norm());
    QVERIFY2(err < 0.15, qPrintable(QString::number(err))); // NF4 on Gaussian weights: about 0.1
}

void TestQuantNf4Blocks::fp4Blocks()
{
    // absmax 12: x / 12 lands on the FP4 grid {0, 1/192, 1/6, 1/4, 1/3, 1/2, 2/3, 1} exactly.
    std::vector<float> v = {12.0f, 8.0f, 6.0f, 4.0f, 3.0f, 2.0f, 0.0625f, 0.0f, -12.0f, -8.0f, -6.0f, -4.0f, -3.0f, -2.0f, -0.0625f, 5.0f};
    // 5 * (1/12) rounds to the same float as the kernel's pivot 0.4166667f: the tie goes down to 1/3.
    const std::vector<int> codes = {3, 2, 5, 4, 7, 6, 1, 0, 11, 10, 13, 12, 15, 14, 9, 4};
    v.resize(64, 1.0f); // 1/12 = 0.0833 < 0.0859375: code 1 (0.0625)
    const auto r = quant::quantizeFourBitBlocks(v.data(), v.size(), 64, quant::FourBitType::Fp4);
    QCOMPARE(r.absmax[0], 12.0f);
    for (std::size_t i = 0; i < codes.size(); ++i)
        QVERIFY2(int(r.codes[i]) == codes[i], qPrintable(QString("#%1: %2").arg(i).arg(r.codes[i])));
    QCOMPARE(int(r.codes[40]), 1);
    Mat w(1, 64);
    for (int c = 0; c < 64; ++c)
        w(0, c) = v[std::size_t(c)];
    const auto f = quant::quantizeFp4(w, 64, false);
    QCOMPARE(f.dequantized(0, 0), 12.0f);
    QCOMPARE(f.dequantized(0, 1), 8.0f);
    QCOMPARE(f.dequantized(0, 40), 0.0625f);
    QCOMPARE(f.storageBitsPerWeight, 4.5);
}

void TestQuantNf4Blocks::bitsPerWeight()
{
    Mat w = Mat::Random(384, 384);
    const auto q = quant::quantizeNf4(w, true);
    const double bits = 8.0 * double(compute::weightBytes(q)) / double(w.size());
    // 2304 blocks of 64 -> 9 blocks of 256 absmax: 4 + 8/64 + 9*32/147456.
    QCOMPARE(bits, 4.0 + 8.0 / 64 + 9.0 * 32 / 147456);
    QVERIFY(std::fabs(bits - (4 + 8.0 / 64 + 32.0 / (64 * 256))) < 1e-3); // the asymptotic 4.127
    const auto p = quant::quantizeNf4(w, false);
    QCOMPARE(8.0 * double(compute::weightBytes(p)) / double(w.size()), 4.5);
    QCOMPARE(quant::quantizeFp4(w, 64, true).storageBitsPerWeight, bits);
}

QTEST_GUILESS_MAIN(TestQuantNf4Blocks)
#include "test_quant_nf4_blocks.moc"
