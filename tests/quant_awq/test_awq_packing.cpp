// AWQ's parallel quantization into the kernels' layout against the sequential reference of
// groupwise.hpp: quantizeScaledGroupwise(W, s) is bit for bit toIntGroupwise of
// quantizeGroupwise(W diag(s)) (scales repeated into kernel groups where the group is larger),
// storeGroupwiseParallel is storeGroupwise(quantizeGroupwise(W)) in every field, and the parallel
// fake quantization and dequantization equal their sequential forms. Bad inputs throw.
#include "quant_awq/quant_test_models.hpp"

#include "core/compute/backend.hpp"
#include "core/quant/awq_packing.hpp"
#include "core/quant/awq_scaling.hpp"
#include "core/quant/layer_metrics.hpp"

#include <QtTest/QtTest>

using namespace qs;
using namespace qs::quant;
using runtime::Mat;
using runtime::Vec;

class TestAwqPacking : public QObject {
    Q_OBJECT
private slots:
    void scaledCodesEqualReference_data();
    void scaledCodesEqualReference();
    void parallelHelpersEqualSequential();
    void unsupportedGridsAreRefused();
};

void TestAwqPacking::scaledCodesEqualReference_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("groupSize");
    QTest::newRow("w4 g128 asym") << 4 << false << 128;
    QTest::newRow("w4 g128 sym") << 4 << true << 128;
    QTest::newRow("w3 g64 asym") << 3 << false << 64;
    QTest::newRow("w2 g32 sym") << 2 << true << 32;
    QTest::newRow("w4 g256 asym (repeated)") << 4 << false << 256;
    QTest::newRow("w4 g96 asym (repeated)") << 4 << false << 96;
    QTest::newRow("w4 per channel asym") << 4 << false << 0;
}

void TestAwqPacking::scaledCodesEqualReference()
{
    QFETCH(int, bits);
    QFETCH(bool, symmetric);
    QFETCH(int, groupSize);
    try {
        std::mt19937 rng(std::random_device{}());
        const int n = 70, k = 768;
        Mat w = test::randomMat(rng, n, k, 0.05f);
        w.row(3).setZero(); // a zero row: scale 1 (asym range [-1, 1])
        const Vec s = test::randomPositive(rng, k, 0.1f, 10.0f);
        const GroupGrid grid{bits, symmetric};
        QVERIFY(canPackGroupwise(grid, groupSize, k));

        Mat scaled = w;
        scaled.array().rowwise() *= s.transpose().array();
        const auto reference = storeGroupwise(quantizeGroupwise(scaled, grid, groupSize), n, k, grid);
        const auto& ref = std::get<compute::IntGroupwise>(reference.matrix);
        const auto got = quantizeScaledGroupwise(w, &s, grid, groupSize);
        compute::validate(compute::WeightMatrix(got));
        QCOMPARE(got.groupSize, ref.groupSize);
        QCOMPARE(got.bits, ref.bits);
        QCOMPARE(got.symmetric, ref.symmetric);
        QVERIFY(got.codes == ref.codes);
        QVERIFY(got.scales == ref.scales);
        QVERIFY(got.zeros == ref.zeros);

        // Without scales: the whole stored result, names and bits per weight included.
        const auto plain = storeGroupwiseParallel(w, grid, groupSize);
        const auto plainRef = storeGroupwise(quantizeGroupwise(w, grid, groupSize), n, k, grid);
        QCOMPARE(QString::fromStdString(plain.format), QString::fromStdString(plainRef.format));
        QCOMPARE(QString::fromStdString(plain.runtimeFormat), QString::fromStdString(plainRef.runtimeFormat));
        QCOMPARE(plain.storedGroupSize, plainRef.storedGroupSize);
        QCOMPARE(plain.bitsPerWeight, plainRef.bitsPerWeight);
        QVERIFY(std::get<compute::IntGroupwise>(plain.matrix).codes == std::get<compute::IntGroupwise>(plainRef.matrix).codes);
        QVERIFY(std::get<compute::IntGroupwise>(plain.matrix).scales == std::get<compute::IntGroupwise>(plainRef.matrix).scales);

        // And what the kernels compute with it: (x / s) Q(W s)^T equals x (Q(W s) / s)^T, the
        // fake-quantized product, to f32 rounding (normalized error < 1e-5).
        const Mat x = test::randomMat(rng, 16, k);
        Mat xs = x;
        xs.array().rowwise() /= s.transpose().array();
        auto cpu = compute::makeCpuBackend();
        Mat y(16, n);
        cpu->dequantGemm(xs.data(), 16, compute::WeightMatrix(got), y.data());
        const Mat yFake = x * fakeQuantizeScaled(w, s, grid, groupSize).transpose();
        const double err = test::relError(y, yFake);
        qInfo("w%d g%d %s: codes identical; (x/s) Q(Ws)^T vs x (Q(Ws)/s)^T normalized error %.2e", bits, groupSize,
              symmetric ? "sym" : "asym", err);
        QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqPacking::parallelHelpersEqualSequential()
{
    try {
        std::mt19937 rng(std::random_device{}());
        const int n = 130, k = 256;
        const Mat w = test::randomMat(rng, n, k, 0.05f);
        const GroupGrid grid{6, false}; // 6 bits: the f16 fallback of storeGroupwise
        const auto a = quantizeGroupwiseParallel(w, grid, 64);
        const auto b = quantizeGroupwise(w, grid, 64);
        QVERIFY(a.codes == b.codes);
        QVERIFY(a.scales == b.scales);
        QVERIFY(a.zeros == b.zeros);
        QCOMPARE(a.groups, b.groups);
        QCOMPARE(a.groupSize, b.groupSize);
        const auto stored = storeGroupwiseParallel(w, grid, 64);
        QCOMPARE(QString::fromStdString(stored.format), QString("int6-g64-asym"));
        QVERIFY(dequantizeParallel(stored.matrix) == dequantize(stored.matrix));

        // fakeQuantizeScaled against its definition written out sequentially.
        const Vec s = test::randomPositive(rng, k, 0.2f, 5.0f);
        const GroupGrid g4{4, false};
        Mat scaled = w;
        scaled.array().rowwise() *= s.transpose().array();
        Mat expect = dequantizeGroupwise(quantizeGroupwise(scaled, g4, 128), n, k);
        expect.array().rowwise() /= s.transpose().array();
        QVERIFY(fakeQuantizeScaled(w, s, g4, 128) == expect);

        // awqWeightMean does not depend on how the pool splits the columns: by hand.
        const Mat w2 = test::randomMat(rng, 5, k);
        const Vec mean = awqWeightMean({&w, &w2}, 128);
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(k);
        for (const Mat* m : {&w, &w2})
            for (int r = 0; r < m->rows(); ++r)
                for (int g = 0; g < k; g += 128) {
                    const auto seg = m->row(r).segment(g, 128);
                    sum.segment(g, 128) += (seg.cwiseAbs() / (seg.cwiseAbs().maxCoeff() + 1e-6f)).transpose().cast<double>();
                }
        QVERIFY(mean == (sum / double(n + 5)).cast<float>());
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestAwqPacking::unsupportedGridsAreRefused()
{
    QVERIFY(!canPackGroupwise({5, false}, 128, 256));
    QVERIFY(!canPackGroupwise({4, false}, 48, 192));  // no kernel group divides 48
    QVERIFY(!canPackGroupwise({4, false}, 128, 200)); // K not a multiple of 32
    QVERIFY(!canPackGroupwise({4, false}, 0, 200));
    QVERIFY(canPackGroupwise({4, false}, 0, 224));    // per channel: 7 groups of 32
    std::mt19937 rng(1);
    const Mat w = test::randomMat(rng, 4, 256);
    QVERIFY_THROWS_EXCEPTION(qs::Error, quantizeScaledGroupwise(w, nullptr, {5, false}, 128));
    const Vec wrong = Vec::Ones(128);
    QVERIFY_THROWS_EXCEPTION(qs::Error, quantizeScaledGroupwise(w, &wrong, {4, false}, 128));
    QVERIFY_THROWS_EXCEPTION(qs::Error, fakeQuantizeScaled(w, wrong, {4, false}, 128));
}

QTEST_APPLESS_MAIN(TestAwqPacking)
#include "test_awq_packing.moc"
