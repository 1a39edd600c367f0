// Absmax INT8 on a 2x4 matrix worked out by hand (per channel and per tensor), its compute
// format dequantizing to q * scale, and LLM.int8()'s outlier columns: on inputs with planted
// outlier channels of magnitude 20, keeping those columns in f16 cuts the output error of
// plain int8 by far, and the outlier linear computes what its effective weight says.
#include "core/compute/backend.hpp"
#include "core/quant/absmax_int8.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/outlier_linear.hpp"

#include <QtTest/QtTest>

#include <Eigen/Core>

#include <random>

using namespace qs;
using runtime::Mat;

namespace {

Mat handMatrix()
{
    Mat w(2, 4);
    w << 0.5f, -2.2f, 1.2f, 0.1f, //
        4.0f, -1.5f, 0.0f, 3.1f;
    return w;
}

double rel(const Mat& a, const Mat& b) { return double((a - b).norm()) / double(b.norm()); }

} // namespace

class TestQuantAbsmax : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { Eigen::setNbThreads(1); } // suites run side by side on 2 cores in CI
    void perChannelByHand();
    void perTensorByHand();
    void outlierColumnsKeepLargeActivationsExact();
};

void TestQuantAbsmax::perChannelByHand()
{
    // Row 0: max 2.2, scale 2.2/127 = 0.017323; w/scale = 28.86, -127, 69.27, 5.77.
    // Row 1: max 4, scale 4/127 = 0.031496; w/scale = 127, -47.625, 0, 98.43.
    const auto q = quant::quantizeAbsmaxInt8(handMatrix(), false);
    QCOMPARE(q.n, 2);
    QCOMPARE(q.k, 4);
    QVERIFY(std::fabs(q.scale[0] - 0.0173228346f) < 1e-9f);
    QVERIFY(std::fabs(q.scale[1] - 0.0314960630f) < 1e-9f);
    const std::vector<int> codes = {29, -127, 69, 6, 127, -48, 0, 98};
    for (std::size_t i = 0; i < codes.size(); ++i)
        QCOMPARE(int(q.q[i]), codes[i]);
    const Mat dq = quant::dequantize(q);
    QCOMPARE(dq(0, 1), -127 * q.scale[0]);
    QCOMPARE(dq(1, 3), 98 * q.scale[1]);
}

void TestQuantAbsmax::perTensorByHand()
{
    // One scale 4/127 for both rows: row 0 w/scale = 15.875, -69.85, 38.1, 3.175.
    const auto q = quant::quantizeAbsmaxInt8(handMatrix(), true);
    QCOMPARE(q.scale[0], q.scale[1]);
    QVERIFY(std::fabs(q.scale[0] - 0.0314960630f) < 1e-9f);
    const std::vector<int> codes = {16, -70, 38, 3, 127, -48, 0, 98};
    for (std::size_t i = 0; i < codes.size(); ++i)
        QCOMPARE(int(q.q[i]), codes[i]);
    // An all-zero matrix: scale 1, codes 0, no division by zero.
    const auto z = quant::quantizeAbsmaxInt8(Mat::Zero(2, 4), true);
    QCOMPARE(z.scale[0], 1.0f);
    QCOMPARE(int(z.q[3]), 0);
}

void TestQuantAbsmax::outlierColumnsKeepLargeActivationsExact()
{
    try {
        std::mt19937 rng(std::random_device{}());
        std::normal_distribution<float> g(0.0f, 1.0f);
        const int n = 96, k = 256, m = 64;
        Mat w(n, k), x(m, k);
        for (Eigen::Index i = 0; i < w.size(); ++i)
            w.data()[i] = 0.05f * g(rng);
        for (Eigen::Index i = 0; i < x.size(); ++i)
            x.data()[i] = g(rng) * 0.5f;
        const std::vector<int> planted = {3, 77, 130, 201};
        for (int c : planted)
            for (int r = 0; r < m; ++r)
                x(r, c) = (r % 2 ? 20.0f : -20.0f) * (0.8f + 0.2f * std::fabs(g(rng)));
        // Calibration statistics: the columns' absmax over the inputs; threshold 6 as in the paper.
        const runtime::Vec absmax = x.cwiseAbs().colwise().maxCoeff().transpose();
        std::vector<int> cols;
        for (int c = 0; c < k; ++c)
            if (absmax(c) > 6.0f)
                cols.push_back(c);
        QVERIFY(cols == planted);

        std::shared_ptr<compute::Backend> cpu = compute::makeCpuBackend();
        const Mat y = x * w.transpose();
        const Mat plain = x * quant::dequantize(quant::quantizeAbsmaxInt8(w, false)).transpose();
        quant::OutlierLinear mixed(cpu, w, cols, false, std::nullopt);
        Mat ym;
        mixed.forward(x, ym);
        const double errPlain = rel(plain, y), errMixed = rel(ym, y);
        qInfo("output error: plain int8 %.3g, int8 + %zu f16 outlier columns %.3g", errPlain, cols.size(), errMixed);
        QVERIFY2(errMixed < 0.5 * errPlain, qPrintable(QString("%1 vs %2").arg(errMixed).arg(errPlain)));
        // The outlier columns are exact up to f16 rounding (2^-11 relative).
        const Mat eff = mixed.effectiveWeight();
        for (int c : cols)
            QVERIFY(rel(eff.col(c), w.col(c)) < 1e-3);
        // forward() is x * effective^T.
        QVERIFY(rel(ym, x * eff.transpose()) < 1e-5);
        // Stored bytes: int8 codes + f32 scales + f16 columns + int32 indices.
        QCOMPARE(mixed.storedBytes(), std::size_t(n * k + 4 * n + 2 * n * 4 + 4 * 4));
        // With bias, and with no outliers at all it is plain int8.
        runtime::Vec b = runtime::Vec::Constant(n, 0.25f);
        quant::OutlierLinear none(cpu, w, {}, false, b);
        Mat yn;
        none.forward(x, yn);
        QVERIFY(rel(yn, (plain.rowwise() + b.transpose()).eval()) < 1e-5);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestQuantAbsmax)
#include "test_quant_absmax.moc"
