// ggml block quantizers: exact bytes of hand-computed blocks (Q8_0, Q4_0, Q4_1), and on fresh
// random rows the round trip through the project's own GGUF dequantizer (an independent
// decoder written from ggml's dequantize_row_*) within stated normalized errors.
#include "common/test_support.hpp"

#include "core/export/ggml_quantize.hpp"
#include "core/io/gguf_dequant.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <cmath>
#include <cstring>
#include <random>

using namespace qs::exporting;

namespace {

std::vector<float> dequantize(GgmlType t, const std::vector<std::uint8_t>& blocks, std::size_t n)
{
    std::vector<float> out(n);
    if (!qs::io::dequantizeGgml(std::uint32_t(t), blocks, out))
        throw qs::Error("dequantizer does not decode " + std::string(ggmlTypeName(t)));
    return out;
}

double relativeRmsError(const std::vector<float>& a, const std::vector<float>& b)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        num += double(a[i] - b[i]) * double(a[i] - b[i]);
        den += double(a[i]) * double(a[i]);
    }
    return std::sqrt(num / den);
}

// RMS over 32-value blocks of (block RMS error / block absmax): each block's rounding step is set
// by its own range, so this is the same for every block whatever outliers it holds, and one
// unlucky block cannot swing it (the plain relative RMS error can, by 1.7x).
double blockRelativeRmsError(const std::vector<float>& a, const std::vector<float>& b)
{
    double sum = 0;
    std::size_t blocks = 0;
    for (std::size_t i0 = 0; i0 + 32 <= a.size(); i0 += 32, ++blocks) {
        double err = 0, absmax = 0;
        for (std::size_t i = i0; i < i0 + 32; ++i) {
            err += double(a[i] - b[i]) * double(a[i] - b[i]);
            absmax = std::max(absmax, double(std::fabs(a[i])));
        }
        sum += err / 32.0 / (absmax * absmax);
    }
    return std::sqrt(sum / double(blocks));
}

std::uint16_t half(const std::vector<std::uint8_t>& b, std::size_t offset)
{
    std::uint16_t h;
    std::memcpy(&h, b.data() + offset, 2);
    return h;
}

} // namespace

class TestGgmlQuantize : public QObject {
    Q_OBJECT

private slots:
    // amax 127 makes d exactly 1 (f16 0x3C00); ggml rounds with roundf: halves away from zero.
    void q8_0KnownBlock()
    {
        try {
            std::vector<float> x(32, 0.0f);
            const float in[] = {127, -127, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49f, 100.2f, -3.7f};
            std::copy(std::begin(in), std::end(in), x.begin());
            const auto b = quantizeRows(GgmlType::Q8_0, x);
            QCOMPARE(b.size(), std::size_t(34));
            QCOMPARE(half(b, 0), std::uint16_t(0x3C00));
            const std::int8_t expected[] = {127, -127, 1, -1, 2, 3, -3, 0, 100, -4};
            for (int j = 0; j < 10; ++j)
                QCOMPARE(std::int8_t(b[2 + j]), expected[j]);
            for (int j = 10; j < 32; ++j)
                QCOMPARE(b[2 + j], std::uint8_t(0));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // The value of largest magnitude is -8: d = -8 / -8 = 1; q = min(15, trunc(x + 8.5)); low
    // nibble holds element j, high nibble element j + 16.
    void q4_0KnownBlock()
    {
        try {
            std::vector<float> x(32, 0.0f);
            x[0] = -8;     // q 0
            x[1] = 7;      // q 15
            x[2] = 0.5f;   // trunc(9.0) = 9
            x[3] = -0.5f;  // trunc(8.0) = 8: halves round up
            x[4] = 7.9f;   // trunc(16.4) = 16 -> clamped to 15
            x[16] = -7.6f; // trunc(0.9) = 0
            x[17] = 3.2f;  // 11
            const auto b = quantizeRows(GgmlType::Q4_0, x);
            QCOMPARE(b.size(), std::size_t(18));
            QCOMPARE(half(b, 0), std::uint16_t(0x3C00));
            QCOMPARE(b[2 + 0], std::uint8_t(0x00 | (0 << 4)));
            QCOMPARE(b[2 + 1], std::uint8_t(15 | (11 << 4)));
            QCOMPARE(b[2 + 2], std::uint8_t(9 | (8 << 4)));
            QCOMPARE(b[2 + 3], std::uint8_t(8 | (8 << 4)));
            QCOMPARE(b[2 + 4], std::uint8_t(15 | (8 << 4)));
            // A positive extreme flips the sign of d: 8 -> d = -1 (0xBC00), q = trunc(-x + 8.5).
            std::vector<float> y(32, 0.0f);
            y[0] = 8;
            y[1] = -2;
            const auto c = quantizeRows(GgmlType::Q4_0, y);
            QCOMPARE(half(c, 0), std::uint16_t(0xBC00));
            QCOMPARE(c[2 + 0], std::uint8_t(0 | (8 << 4)));
            QCOMPARE(c[2 + 1], std::uint8_t(10 | (8 << 4)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // min -1, max 14: d = 15 / 15 = 1, m = -1 (0xBC00); q = trunc(x - min + 0.5).
    void q4_1KnownBlock()
    {
        try {
            std::vector<float> x(32, 2.0f); // q 3
            x[0] = -1;    // 0
            x[1] = 14;    // 15
            x[2] = 0.5f;  // trunc(2.0) = 2
            x[16] = 4.4f; // trunc(5.9) = 5
            x[17] = 4.5f; // trunc(6.0) = 6
            const auto b = quantizeRows(GgmlType::Q4_1, x);
            QCOMPARE(b.size(), std::size_t(20));
            QCOMPARE(half(b, 0), std::uint16_t(0x3C00));
            QCOMPARE(half(b, 2), std::uint16_t(0xBC00));
            QCOMPARE(b[4 + 0], std::uint8_t(0 | (5 << 4)));
            QCOMPARE(b[4 + 1], std::uint8_t(15 | (6 << 4)));
            QCOMPARE(b[4 + 2], std::uint8_t(2 | (3 << 4)));
            QCOMPARE(b[4 + 3], std::uint8_t(3 | (3 << 4)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void nearestIntRoundsHalfToEven()
    {
        QCOMPARE(ggmlNearestInt(0.5f), 0);
        QCOMPARE(ggmlNearestInt(1.5f), 2);
        QCOMPARE(ggmlNearestInt(-2.5f), -2);
        QCOMPARE(ggmlNearestInt(-2.6f), -3);
        QCOMPARE(ggmlNearestInt(63.49f), 63);
    }

    // Fresh Gaussian rows with a few outliers through quantize -> the project's dequantizer.
    // Thresholds on the block-relative RMS error: 1.2x what the grid predicts, a uniform rounding
    // error of step/sqrt(12) with step = absmax/127 (Q8_0: 0.00227), absmax/16 (Q5_0: 0.0180),
    // absmax/8 (Q4_0: 0.0361), range/15 (Q4_1); k-quants and halves from 300 fresh runs (means:
    // Q6_K 0.0076, Q4_K 0.0305, Q4_1 0.0330, BF16 7.2e-4, F16 9e-5; every run within 3% of them).
    void randomRoundTrip_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("threshold");
        QTest::newRow("Q8_0") << int(GgmlType::Q8_0) << 0.0027;
        QTest::newRow("Q6_K") << int(GgmlType::Q6_K) << 0.0092;
        QTest::newRow("Q5_0") << int(GgmlType::Q5_0) << 0.0217;
        QTest::newRow("Q4_1") << int(GgmlType::Q4_1) << 0.040;
        QTest::newRow("Q4_0") << int(GgmlType::Q4_0) << 0.0433;
        QTest::newRow("Q4_K") << int(GgmlType::Q4_K) << 0.037;
        QTest::newRow("F16") << int(GgmlType::F16) << 1.2e-4;
        QTest::newRow("BF16") << int(GgmlType::BF16) << 9e-4;
    }
    void randomRoundTrip()
    {
        QFETCH(int, type);
        QFETCH(double, threshold);
        try {
            const auto t = GgmlType(type);
            const unsigned seed = std::random_device{}();
            std::mt19937 rng(seed);
            std::normal_distribution<float> normal(0.0f, 0.02f);
            std::vector<float> x(256 * 64);
            for (auto& v : x)
                v = normal(rng);
            for (int i = 0; i < 20; ++i) // outliers, as real weights have
                x[rng() % x.size()] *= 8.0f;
            const auto blocks = quantizeRows(t, x);
            QCOMPARE(blocks.size(), ggmlRowBytes(t, std::int64_t(x.size())));
            const auto back = dequantize(t, blocks, x.size());
            const double err = blockRelativeRmsError(x, back);
            qInfo("%s: block-relative RMS error %.5f (threshold %.4g, seed %u)", ggmlTypeName(t).data(), err, threshold, seed);
            QVERIFY2(err < threshold, qPrintable(QString("error %1 seed %2").arg(err).arg(seed)));
            QVERIFY(err > 0.0); // a quantizer that returned its input unchanged would be a bug here
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // Per element, Q8_0, Q4_0 and Q4_1 are round-to-nearest on their grid: |x - x'| <= |d|/2 (+ f16
    // slack; a code one step off would be off by |d|), except that Q4_0's grid -8..7 puts the block's extreme at -8 d, so values beyond 7.5 d
    // on the other side clip to 7 d (error <= |d|).
    void elementBoundsHold()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            std::uniform_real_distribution<float> u(-3.0f, 3.0f);
            std::vector<float> x(32 * 128);
            for (auto& v : x)
                v = u(rng);
            for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1}) {
                const auto blocks = quantizeRows(t, x);
                const auto back = dequantize(t, blocks, x.size());
                const int bb = ggmlBlockBytes(t);
                for (std::size_t blk = 0; blk < x.size() / 32; ++blk) {
                    const float signedD = qs::halfToF32(half(blocks, blk * bb));
                    const float d = std::fabs(signedD);
                    // ggml rounds codes with the f32 d (and min) but stores them as f16: each
                    // stored value is off by up to 2^-11 relative, i.e. |q d| <= (max|x| + 16 d) and
                    // |min| <= max|x| in size, hence the slack.
                    float blockAbsMax = 0.0f;
                    for (int j = 0; j < 32; ++j)
                        blockAbsMax = std::max(blockAbsMax, std::fabs(x[blk * 32 + j]));
                    const float slack = (blockAbsMax + 16.0f * d) / 1024.0f + 1e-4f;
                    for (int j = 0; j < 32; ++j) {
                        const std::size_t i = blk * 32 + j;
                        const bool clipped = t == GgmlType::Q4_0 && x[i] / signedD > 7.5f;
                        const float tol = (clipped ? 1.0f : 0.5f) * d + slack;
                        QVERIFY2(std::fabs(x[i] - back[i]) <= tol,
                                 qPrintable(QString("%1 element %2: %3 vs %4 (d %5)")
                                                .arg(ggmlTypeName(t).data()).arg(i).arg(x[i]).arg(back[i]).arg(d)));
                    }
                }
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // More bits, smaller error, on the same fresh data: Q8_0 < Q6_K < Q5_0 < Q4_K < Q4_0, and
    // Q4_K's searched scales beat Q4_1's plain min/max on Gaussian weights.
    void errorsOrderByBits()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<float> x(256 * 32);
            for (auto& v : x)
                v = normal(rng);
            auto err = [&](GgmlType t) { return relativeRmsError(x, dequantize(t, quantizeRows(t, x), x.size())); };
            const double q8 = err(GgmlType::Q8_0), q6k = err(GgmlType::Q6_K), q5 = err(GgmlType::Q5_0);
            const double q4k = err(GgmlType::Q4_K), q41 = err(GgmlType::Q4_1), q40 = err(GgmlType::Q4_0);
            qInfo("Q8_0 %.5f Q6_K %.5f Q5_0 %.5f Q4_K %.5f Q4_1 %.5f Q4_0 %.5f", q8, q6k, q5, q4k, q41, q40);
            QVERIFY(q8 < q6k);
            QVERIFY(q6k < q5);
            QVERIFY(q5 < q4k);
            QVERIFY(q4k < q41);
            QVERIFY(q4k < q40);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // Large tensors are split over threads: the bytes equal those of quantizing piece by piece.
    void threadedEqualsSerial()
    {
        try {
            std::mt19937 rng(std::random_device{}());
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<float> x(std::size_t(1) << 21);
            for (auto& v : x)
                v = normal(rng);
            for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_K}) {
                const auto whole = quantizeRows(t, x);
                std::vector<std::uint8_t> pieces;
                const std::size_t piece = 1 << 16; // below the threading threshold
                for (std::size_t i = 0; i < x.size(); i += piece) {
                    const auto part = quantizeRows(t, std::span<const float>(x).subspan(i, piece));
                    pieces.insert(pieces.end(), part.begin(), part.end());
                }
                QVERIFY(whole == pieces);
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void zeroBlocksStayZero()
    {
        try {
            std::vector<float> x(256, 0.0f);
            for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q4_K,
                               GgmlType::Q6_K}) {
                const auto back = dequantize(t, quantizeRows(t, x), x.size());
                for (float v : back)
                    QCOMPARE(v, 0.0f);
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void badSizesAreRefused()
    {
        std::vector<float> x(100, 1.0f);
        QVERIFY_THROWS_EXCEPTION(qs::Error, quantizeRows(GgmlType::Q4_K, x));
        std::vector<std::uint8_t> out(10);
        QVERIFY_THROWS_EXCEPTION(qs::Error, quantizeRow(GgmlType::Q8_0, std::span<const float>(x.data(), 32), out));
    }
};

QTEST_GUILESS_MAIN(TestGgmlQuantize)
#include "test_ggml_quantize.moc"
