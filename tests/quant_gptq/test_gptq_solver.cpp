// GPTQ's solver on hand-computed cases, against an independent unbatched implementation
// (gptq_reference.hpp), the published property (layer error at most RTN's on the same Hessian),
// dead columns, automatic damping, the MSE grid and the stored formats.
#include "gptq_reference.hpp"

#include "core/compute/weight_formats.hpp"
#include "core/quant/gptq_output.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

#include "gptq_test_inputs.hpp"

#include <QtTest/QtTest>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <random>

using namespace qs;
using quant::GptqOptions;
using test::correlatedHessian;
using test::freshSeed;
using test::randomMatrix;

namespace {

Eigen::MatrixXd rtnDequantized(const Eigen::MatrixXd& w, const quant::GroupGrid& grid, int groupSize)
{
    const runtime::Mat wf = w.cast<float>();
    const auto r = quant::quantizeGroupwise(wf, grid, groupSize);
    return quant::dequantizeGroupwise(r, int(w.rows()), int(w.cols())).cast<double>();
}

} // namespace

class TestGptqSolver : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { Eigen::setNbThreads(1); } // suites run side by side on 2 cores in CI
    void identityHessianIsRtn();
    void handComputedCorrelatedCase();
    void blockedMatchesUnbatchedReference_data();
    void blockedMatchesUnbatchedReference();
    void paramsFromBatchStartAgreesOnBatchBoundaries();
    void singlePrecisionCloseToReference_data();
    void singlePrecisionCloseToReference();
    void factorSharedByLinears();
    void rowMajorFloatWeightsAsDouble();
    void outputErrorMetricMatchesDouble();
    void floatHessianAveragedLikeDouble();
    void layerErrorAtMostRtn();
    void deadColumns();
    void indefiniteHessianRaisesDamp();
    void hopelessHessianThrows();
    void mseGridShrinksOutlierRange();
    void storedFormatsDequantizeToResult();
    void refusesUnsupportedSettings();
};

// H = I: no column carries information about another, so GPTQ is round to nearest exactly.
void TestGptqSolver::identityHessianIsRtn()
{
    try {
        Eigen::MatrixXd w(2, 4);
        w << 0.1, -0.5, 0.9, 0.3, 0.25, 0.75, -0.25, 0.0;
        GptqOptions o;
        o.grid = {2, false};
        const auto r = quant::gptqQuantize(w, Eigen::MatrixXd::Identity(4, 4), o);
        // Row 0: range [-0.5, 0.9], scale 1.4/3, zero round(0.5/scale) = 1.
        // Row 1: range [-0.25, 0.75], scale 1/3, zero 1.
        const std::vector<std::uint8_t> expected = {1, 0, 3, 2, 2, 3, 0, 1};
        QCOMPARE(r.q.codes, expected);
        QVERIFY(std::abs(r.q.scales[0] - 1.4f / 3.0f) < 1e-7f);
        QCOMPARE(r.q.zeros[0], 1.0f);
        QVERIFY(std::abs(r.q.scales[1] - 1.0f / 3.0f) < 1e-7f);
        QCOMPARE(r.q.zeros[1], 1.0f);
        QCOMPARE(r.dampUsed, 0.01);
        QCOMPARE(r.dampTries, 1);
        const auto rtn = quant::quantizeGroupwise(w.cast<float>(), o.grid, 0);
        QCOMPARE(r.q.codes, rtn.codes);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// One row, three columns, columns 0 and 1 anti-correlated (H01 = -0.5), 2 bits, per channel:
// scale = 0.8/3, zero 0. Column 0: 0.35/scale = 1.3125 -> 1, q = 0.26667, error 0.08333.
// H^-1 = [[4/3, 2/3], [2/3, 4/3]] on the first two, so column 1 moves by -0.08333 * (2/3)/(4/3)
// = -0.041667: 0.42 -> 0.378333 = 1.41875 scale -> code 1, where RTN gives 0.42/scale = 1.575 -> 2.
// Loss: 0.083333^2 / (4/3) / 2 + (0.378333 - 0.266667)^2 / 1 / 2 = 0.0088390.
void TestGptqSolver::handComputedCorrelatedCase()
{
    try {
        Eigen::MatrixXd w(1, 3);
        w << 0.35, 0.42, 0.8;
        Eigen::MatrixXd h(3, 3);
        h << 1, -0.5, 0, -0.5, 1, 0, 0, 0, 1;
        GptqOptions o;
        o.grid = {2, false};
        o.damp = 1e-12;
        const auto r = quant::gptqQuantize(w, h, o);
        const std::vector<std::uint8_t> expected = {1, 1, 3};
        QCOMPARE(r.q.codes, expected);
        const double s = 0.8 / 3.0;
        const double loss = std::pow(0.35 - s, 2) / (4.0 / 3.0) / 2.0 + std::pow(0.42 - (0.35 - s) * 0.5 - s, 2) / 2.0;
        QVERIFY2(std::abs(r.loss - loss) < 1e-6 * loss, qPrintable(QString("loss %1 vs %2").arg(r.loss).arg(loss)));
        QVERIFY(std::abs(r.dequantized(0, 1) - s) < 1e-6);
        const auto rtn = quant::quantizeGroupwise(w.cast<float>(), o.grid, 0);
        QCOMPARE(int(rtn.codes[1]), 2); // the case really differs from RTN
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqSolver::blockedMatchesUnbatchedReference_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("groupSize");
    QTest::addColumn<bool>("actOrder");
    QTest::addColumn<bool>("staticGroups");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<bool>("mse");
    QTest::addColumn<int>("blockSize");
    QTest::addColumn<int>("k");
    QTest::newRow("w4 per-channel") << 4 << 0 << false << false << false << false << 128 << 256;
    QTest::newRow("w4 g32") << 4 << 32 << false << false << false << false << 128 << 256;
    QTest::newRow("w3 g32 sym") << 3 << 32 << false << false << true << false << 128 << 256;
    QTest::newRow("w4 g32 act-order") << 4 << 32 << true << false << false << false << 128 << 256;
    QTest::newRow("w4 per-channel act-order") << 4 << 0 << true << false << false << false << 128 << 256;
    QTest::newRow("w4 g32 act-order static") << 4 << 32 << true << true << false << false << 128 << 256;
    QTest::newRow("w2 g64 batch 40 (groups cross batches)") << 2 << 64 << false << false << false << false << 40 << 256;
    QTest::newRow("w4 g32 act-order batch 24") << 4 << 32 << true << false << false << false << 24 << 256;
    QTest::newRow("w4 g32 mse grid") << 4 << 32 << false << false << false << true << 128 << 256;
    QTest::newRow("w3 g64 k 1088 (several 512-column runs)") << 3 << 64 << false << false << false << false << 128 << 1088;
    QTest::newRow("w4 g128 k 1152 act-order, params from batch start") << 4 << 128 << true << false << false << false << 96 << 1152;
}

// The lazy blocked sweep with the Cholesky factor must give the same codes as the column-by-
// column elimination of the paper, for random W and a random SPD H.
void TestGptqSolver::blockedMatchesUnbatchedReference()
{
    QFETCH(int, bits);
    QFETCH(int, groupSize);
    QFETCH(bool, actOrder);
    QFETCH(bool, staticGroups);
    QFETCH(bool, symmetric);
    QFETCH(bool, mse);
    QFETCH(int, blockSize);
    QFETCH(int, k);
    try {
        const auto seed = freshSeed();
        std::mt19937_64 rng(seed);
        const int n = 24;
        const Eigen::MatrixXd w = randomMatrix(n, k, rng, 0.05);
        const Eigen::MatrixXd h = correlatedHessian(k, std::max(600, 2 * k), rng);
        GptqOptions o;
        o.grid = {bits, symmetric};
        o.paramsFromBatchStart = QByteArray(QTest::currentDataTag()).contains("batch start");
        o.groupSize = groupSize;
        o.actOrder = actOrder;
        o.staticGroups = staticGroups;
        o.mseGrid = mse;
        o.blockSize = blockSize;
        const auto r = quant::gptqQuantize(w, h, o);
        const auto ref = test::referenceGptq(w, h, o);
        int differing = 0;
        for (std::size_t i = 0; i < r.q.codes.size(); ++i)
            differing += r.q.codes[i] != ref.codes[i];
        QVERIFY2(differing == 0, qPrintable(QString("%1 of %2 codes differ (seed %3)")
                                                .arg(differing).arg(r.q.codes.size()).arg(seed)));
        QCOMPARE(r.gIdx, ref.gIdx);
        const double qErr = (r.dequantized - ref.q).norm() / ref.q.norm();
        QVERIFY2(qErr < 1e-12, qPrintable(QString("dequantized differ by %1").arg(qErr)));
        QVERIFY2(std::abs(r.loss - ref.loss) <= 1e-9 * ref.loss,
                 qPrintable(QString("loss %1 vs reference %2").arg(r.loss).arg(ref.loss)));
        if (actOrder && groupSize > 0 && !staticGroups) {
            // g_idx: each group holds groupSize columns.
            std::vector<int> count(std::size_t(k / groupSize), 0);
            for (auto g : r.gIdx)
                ++count[std::size_t(g)];
            for (int c : count)
                QCOMPARE(c, groupSize);
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqSolver::singlePrecisionCloseToReference_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("groupSize");
    QTest::addColumn<bool>("actOrder");
    QTest::addColumn<int>("blockSize");
    QTest::newRow("w4 g128 k 640 (3 Cholesky panels)") << 32 << 640 << 4 << 128 << false << 128;
    QTest::newRow("w4 per-channel k 640 act-order") << 32 << 640 << 4 << 0 << true << 128;
    QTest::newRow("w3 g32 act-order batch 24") << 24 << 256 << 3 << 32 << true << 24;
    QTest::newRow("w2 g64 batch 40") << 24 << 256 << 2 << 64 << false << 40;
}

// Single precision (what the method runs) against the double, unbatched reference. A code
// flips where a weight lies within f32 rounding of a rounding boundary; the flip's error then
// moves the columns after it (and the params of later groups), so more follow. Measured over
// 320 runs of these cases: no flip in 318; in the others 0.01% and 0.33% of codes, loss within
// 1.2% and layer error within 1.3% of the reference (either side). Without a flip the
// dequantized weights agree to 2e-7.
void TestGptqSolver::singlePrecisionCloseToReference()
{
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(int, bits);
    QFETCH(int, groupSize);
    QFETCH(bool, actOrder);
    QFETCH(int, blockSize);
    try {
        const auto seed = freshSeed();
        std::mt19937_64 rng(seed);
        const Eigen::MatrixXd w = randomMatrix(n, k, rng, 0.05);
        const Eigen::MatrixXd h = correlatedHessian(k, 2 * k, rng);
        GptqOptions o;
        o.grid = {bits, false};
        o.groupSize = groupSize;
        o.actOrder = actOrder;
        o.blockSize = blockSize;
        o.precision = quant::GptqPrecision::Single;
        const auto r = quant::gptqQuantize(w, h, o);
        const auto ref = test::referenceGptq(w, h, o);
        int differing = 0;
        for (std::size_t i = 0; i < r.q.codes.size(); ++i)
            differing += r.q.codes[i] != ref.codes[i];
        const double flipped = double(differing) / double(r.q.codes.size());
        const double qErr = (r.dequantized - ref.q).norm() / ref.q.norm();
        const double lossErr = std::abs(r.loss - ref.loss) / ref.loss;
        const double layerRatio = quant::layerError(w, r.dequantized, h) / quant::layerError(w, ref.q, h);
        qInfo("codes flipped %.5f, dequantized %.2e, loss %.2e, layer error ratio %.5f", flipped, qErr, lossErr,
              layerRatio);
        const QString what = QString("flipped %1, dequantized %2, loss %3, layer ratio %4 (seed %5)")
                                 .arg(flipped).arg(qErr).arg(lossErr).arg(layerRatio).arg(seed);
        QVERIFY2(flipped < 0.01 && lossErr < 0.05 && std::abs(layerRatio - 1.0) < 0.05, qPrintable(what));
        if (differing == 0)
            QVERIFY2(qErr < 1e-5, qPrintable(what));
        QCOMPARE(r.gIdx, ref.gIdx);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// k, v and q (and gate and up) share one Hessian: one factor serves them all and gives what a
// factorization per linear gives; a factor made with other options is refused.
void TestGptqSolver::factorSharedByLinears()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int k = 192;
        const Eigen::MatrixXd h = correlatedHessian(k, 500, rng);
        GptqOptions o;
        o.groupSize = 64;
        o.actOrder = true;
        const quant::GptqFactor f = quant::factorGptqHessian(h, o);
        for (int n : {8, 20}) {
            const Eigen::MatrixXd w = randomMatrix(n, k, rng, 0.05);
            const auto shared = quant::gptqQuantize(w, f, o);
            const auto own = quant::gptqQuantize(w, h, o);
            QCOMPARE(shared.q.codes, own.q.codes);
            QCOMPARE(shared.q.scales, own.q.scales);
            QCOMPARE(shared.gIdx, own.gIdx);
            QCOMPARE(shared.loss, own.loss);
            QCOMPARE(shared.dampUsed, own.dampUsed);
            GptqOptions codesOnly = o; // what the method asks for
            codesOnly.keepDequantized = false;
            const auto lean = quant::gptqQuantize(w, f, codesOnly);
            QCOMPARE(lean.q.codes, own.q.codes);
            QCOMPARE(lean.loss, own.loss);
            QCOMPARE(lean.dequantized.size(), Eigen::Index(0));
        }
        GptqOptions other = o;
        other.precision = quant::GptqPrecision::Single;
        bool threw = false;
        try {
            quant::gptqQuantize(randomMatrix(4, k, rng), f, other);
        } catch (const Error& e) {
            threw = QString(e.what()).contains("other options");
        }
        QVERIFY(threw);
        threw = false;
        try {
            quant::gptqQuantize(randomMatrix(4, k + 32, rng), f, o);
        } catch (const Error& e) {
            threw = QString(e.what()).contains("input features");
        }
        QVERIFY(threw);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// The method passes the model's row-major f32 weights directly: the same values as a double
// copy, so the same codes, params and loss in both precisions, per channel and grouped.
void TestGptqSolver::rowMajorFloatWeightsAsDouble()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int n = 20, k = 256;
        const runtime::Mat wf = randomMatrix(n, k, rng, 0.05).cast<float>();
        const Eigen::MatrixXd wd = wf.cast<double>();
        const Eigen::MatrixXd h = correlatedHessian(k, 600, rng);
        for (auto precision : {quant::GptqPrecision::Double, quant::GptqPrecision::Single})
            for (int group : {0, 64}) {
                GptqOptions o;
                o.groupSize = group;
                o.actOrder = group > 0;
                o.precision = precision;
                const auto f = quant::factorGptqHessian(h, o);
                const auto a = quant::gptqQuantize(wf, f, o);
                const auto b = quant::gptqQuantize(wd, f, o);
                QCOMPARE(a.q.codes, b.q.codes);
                QCOMPARE(a.q.scales, b.q.scales);
                QCOMPARE(a.q.zeros, b.q.zeros);
                QCOMPARE(a.loss, b.loss);
                QCOMPARE(a.dequantized, b.dequantized);
            }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// The method hands the f32 Hessian as summed (not exactly symmetric): the factor averages each
// pair, which is what a double 0.5 (H + H^T) of the same values gives, bit for bit.
void TestGptqSolver::floatHessianAveragedLikeDouble()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int k = 160;
        runtime::Mat hf = correlatedHessian(k, 400, rng).cast<float>();
        std::normal_distribution<float> noise(0.0f, 1e-4f);
        for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j)
                if (i != j)
                    hf(i, j) += noise(rng) * std::abs(hf(i, j)); // f32 summation order differs per side
        const Eigen::MatrixXd hd = hf.cast<double>();
        const Eigen::MatrixXd sym = 0.5 * (hd + hd.transpose());
        const Eigen::MatrixXd w = randomMatrix(12, k, rng, 0.05);
        for (auto precision : {quant::GptqPrecision::Double, quant::GptqPrecision::Single})
            for (bool actOrder : {false, true}) {
                GptqOptions o;
                o.groupSize = 32;
                o.actOrder = actOrder;
                o.precision = precision;
                const auto a = quant::factorGptqHessian(hf, o);
                const auto b = quant::factorGptqHessian(sym, o);
                QCOMPARE(a.perm, b.perm);
                QVERIFY(a.r == b.r);
                QVERIFY(a.rSingle == b.rSingle);
                QCOMPARE(quant::gptqQuantize(w, a, o).q.codes, quant::gptqQuantize(w, b, o).q.codes);
            }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// fillMetrics' output error ||X W^T - X Q^T|| / ||X W^T|| (its products split over the pool)
// against the same in double precision on a GPTQ result; f32 accumulation over K = 512: 1e-4.
void TestGptqSolver::outputErrorMetricMatchesDouble()
{
    try {
        const auto seed = freshSeed();
        std::mt19937_64 rng(seed);
        const int n = 300, k = 512, rows = 96;
        const Eigen::MatrixXd w = randomMatrix(n, k, rng, 0.05);
        const Eigen::MatrixXd x = randomMatrix(rows, k, rng);
        GptqOptions o;
        o.grid = {3, false};
        const auto r = quant::gptqQuantize(w, correlatedHessian(k, 1024, rng), o);
        const auto stored = quant::storeGptqResult(r, n, k, o.grid);
        quant::LayerReport report;
        quant::fillMetrics(report, w.cast<float>(), stored, x.cast<float>());
        const double expected = (x * w.transpose() - x * r.dequantized.transpose()).norm() / (x * w.transpose()).norm();
        QVERIFY2(std::abs(report.outputRelError - expected) < 1e-4 * expected,
                 qPrintable(QString("output error %1 vs double %2 (seed %3)").arg(report.outputRelError).arg(expected).arg(seed)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// gptq.py's literal choice (group params from W as of the batch start) is the same as the
// default whenever every group starts a lazy batch.
void TestGptqSolver::paramsFromBatchStartAgreesOnBatchBoundaries()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const Eigen::MatrixXd w = randomMatrix(16, 128, rng, 0.05);
        const Eigen::MatrixXd h = correlatedHessian(128, 400, rng);
        GptqOptions o;
        o.groupSize = 32;
        o.blockSize = 32;
        const auto a = quant::gptqQuantize(w, h, o);
        o.paramsFromBatchStart = true;
        const auto b = quant::gptqQuantize(w, h, o);
        QCOMPARE(a.q.codes, b.q.codes);
        QCOMPARE(a.q.scales, b.q.scales);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// The published property: on its own Hessian GPTQ's tr((W-Q) H (W-Q)^T) is at most RTN's.
void TestGptqSolver::layerErrorAtMostRtn()
{
    try {
        struct Case {
            int bits, group;
            bool actOrder;
        };
        // At 2 bits with groups and channels whose scales spread 10x, GPTQ without act-order is
        // about as good as RTN (measured ratio 0.97 to 1.12 on this Hessian): the large errors
        // pushed into a group before its params are found widen its range. Act-order (0.37 to
        // 0.43) is what fixes it, so 2 bits is checked with act-order.
        const Case cases[] = {{4, 0, false}, {4, 128, false}, {3, 128, true}, {3, 64, false}, {2, 64, true},
                              {4, 32, true}};
        for (int trial = 0; trial < 3; ++trial) {
            const auto seed = freshSeed();
            std::mt19937_64 rng(seed);
            const Eigen::MatrixXd w = randomMatrix(64, 256, rng, 0.02);
            const Eigen::MatrixXd h = correlatedHessian(256, 1024, rng);
            for (const auto& c : cases) {
                GptqOptions o;
                o.grid = {c.bits, false};
                o.groupSize = c.group;
                o.actOrder = c.actOrder;
                const auto r = quant::gptqQuantize(w, h, o);
                const double gptq = quant::layerError(w, r.dequantized, h);
                const double rtn = quant::layerError(w, rtnDequantized(w, o.grid, c.group), h);
                QVERIFY2(std::isfinite(gptq) && gptq <= rtn,
                         qPrintable(QString("w%1 g%2%3: GPTQ %4 > RTN %5 (seed %6)")
                                        .arg(c.bits).arg(c.group).arg(c.actOrder ? " act-order" : "")
                                        .arg(gptq).arg(rtn).arg(seed)));
                if (trial == 0)
                    qInfo("w%d g%d%s: layer error GPTQ/RTN = %.3f", c.bits, c.group, c.actOrder ? " act-order" : "",
                          gptq / rtn);
            }
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// Inputs that are always zero carry no information: their weights become exact zeros.
void TestGptqSolver::deadColumns()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int k = 64;
        Eigen::MatrixXd x = randomMatrix(200, k, rng);
        x.col(3).setZero();
        x.col(40).setZero();
        const Eigen::MatrixXd h = (2.0 / 200) * x.transpose() * x;
        const Eigen::MatrixXd w = randomMatrix(8, k, rng, 0.1);
        for (bool actOrder : {false, true}) {
            GptqOptions o;
            o.groupSize = 32;
            o.actOrder = actOrder;
            const auto r = quant::gptqQuantize(w, h, o);
            QCOMPARE(r.deadColumns, 2);
            QVERIFY(r.dequantized.allFinite());
            QCOMPARE(r.dequantized.col(3).cwiseAbs().maxCoeff(), 0.0);
            QCOMPARE(r.dequantized.col(40).cwiseAbs().maxCoeff(), 0.0);
            QVERIFY(std::isfinite(r.loss));
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// A Hessian with a slightly negative eigenvalue (what f32 accumulation makes of a near-singular
// X^T X): damp 0.01 and 0.1 of the mean diagonal leave it indefinite, 1.0 does not.
void TestGptqSolver::indefiniteHessianRaisesDamp()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int k = 48;
        const Eigen::HouseholderQR<Eigen::MatrixXd> qr(randomMatrix(k, k, rng));
        const Eigen::MatrixXd basis = qr.householderQ();
        Eigen::VectorXd lambda(k);
        std::uniform_real_distribution<double> u(1.0, 2.0);
        for (int i = 0; i < k; ++i)
            lambda[i] = u(rng);
        lambda[0] = -0.5; // mean diagonal ~1.5: needs damp > 0.33 of it
        const Eigen::MatrixXd h = basis * lambda.asDiagonal() * basis.transpose();
        const double mean = h.diagonal().mean();
        QVERIFY(0.1 * mean < 0.5 && 1.0 * mean > 0.5);
        const Eigen::MatrixXd w = randomMatrix(8, k, rng, 0.1);
        GptqOptions o;
        const auto r = quant::gptqQuantize(w, h, o);
        QCOMPARE(r.dampTries, 3);
        QVERIFY(std::abs(r.dampUsed - 1.0) < 1e-12);
        QVERIFY(r.dequantized.allFinite());
        QVERIFY(std::isfinite(r.loss));
        for (auto c : r.q.codes)
            QVERIFY(c <= 15);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqSolver::hopelessHessianThrows()
{
    const Eigen::MatrixXd w = Eigen::MatrixXd::Constant(2, 32, 0.5);
    const Eigen::MatrixXd h = -Eigen::MatrixXd::Identity(32, 32);
    bool threw = false;
    try {
        quant::gptqQuantize(w, h, GptqOptions{});
    } catch (const Error& e) {
        threw = QString(e.what()).contains("not positive definite");
    }
    QVERIFY(threw);
}

// quant.py's MSE search: one outlier stretches the range; shrinking it clips the outlier and
// rounds the other 127 values more finely (3 bits, symmetric). The chosen scale is the best of
// the shrink grid 1 - i/100, i < 80, by sum |err|^2.4, and beats the full range.
void TestGptqSolver::mseGridShrinksOutlierRange()
{
    try {
        std::vector<double> v;
        std::mt19937_64 rng(freshSeed());
        std::uniform_real_distribution<double> u(-0.2, 0.2);
        for (int i = 0; i < 127; ++i)
            v.push_back(u(rng));
        v.push_back(1.0);
        const int count = int(v.size());
        const quant::GroupGrid grid{3, true};
        float s0, z0, s1, z1;
        quant::findGptqParams(v.data(), count, 1, grid, false, s0, z0);
        quant::findGptqParams(v.data(), count, 1, grid, true, s1, z1);
        QCOMPARE(z1, 4.0f);
        QVERIFY(s1 < s0);
        auto err = [&](float s, float z) {
            double e = 0;
            for (double x : v) {
                const double q = (std::clamp(std::nearbyint(x / s) + z, 0.0, 7.0) - z) * s;
                e += std::pow(std::abs(q - x), 2.4);
            }
            return e;
        };
        double best = 1e300;
        for (int i = 0; i < 80; ++i) {
            float s, z;
            quant::findParams(std::vector<float>(v.begin(), v.end()).data(), count, 1, grid, s, z, float(1.0 - i / 100.0));
            best = std::min(best, err(s, z));
        }
        QCOMPARE(err(s1, z1), best);
        QVERIFY(err(s1, z1) < err(s0, z0));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// Per channel (stored as repeated groups of 128), act-order g_idx and 8-bit int8 per channel all
// dequantize (compute's CPU reference) to what the solver computed.
void TestGptqSolver::storedFormatsDequantizeToResult()
{
    try {
        std::mt19937_64 rng(freshSeed());
        const int n = 16, k = 256;
        const Eigen::MatrixXd w = randomMatrix(n, k, rng, 0.05);
        const Eigen::MatrixXd h = correlatedHessian(k, 400, rng);
        struct Case {
            int bits, group;
            bool sym, actOrder;
            int stored;
        };
        for (const Case c : {Case{4, 0, false, false, 128}, Case{3, 32, false, true, 32}, Case{2, 256, true, true, 128},
                             Case{4, 64, true, false, 64}, Case{8, 0, true, true, 0}}) {
            GptqOptions o;
            o.grid = {c.bits, c.sym};
            o.groupSize = c.group;
            o.actOrder = c.actOrder;
            const auto r = quant::gptqQuantize(w, h, o);
            const auto stored = quant::storeGptqResult(r, n, k, o.grid);
            QCOMPARE(stored.storedGroupSize, c.stored);
            const Eigen::MatrixXd dq = quant::dequantize(stored.matrix).cast<double>();
            const double rel = (dq - r.dequantized).norm() / r.dequantized.norm();
            QVERIFY2(rel < 1e-6, qPrintable(QString("w%1 g%2: stored differs by %3").arg(c.bits).arg(c.group).arg(rel)));
            if (c.bits == 8)
                QVERIFY(std::holds_alternative<compute::Int8PerChannel>(stored.matrix));
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestGptqSolver::refusesUnsupportedSettings()
{
    auto refuses = [](quant::QuantConfig c, const char* word) {
        c.method = "gptq";
        try {
            quant::makeMethod(c);
        } catch (const Error& e) {
            return QString(e.what()).contains(word);
        }
        return false;
    };
    quant::QuantConfig c;
    c.bits = 8; // asymmetric group-wise 8 bits has no kernel format
    QVERIFY(refuses(c, "8 bits"));
    c.bits = 5;
    QVERIFY(refuses(c, "5 bits"));
    c.bits = 4;
    c.groupSize = 48;
    QVERIFY(refuses(c, "multiple of 32"));
    c.groupSize = 128;
    c.damp = 0;
    QVERIFY(refuses(c, "damp"));
    quant::QuantConfig ok;
    ok.method = "gptq";
    ok.bits = 8;
    ok.symmetric = true;
    ok.groupSize = 0;
    try {
        QVERIFY(quant::makeMethod(ok) != nullptr);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestGptqSolver)
#include "test_gptq_solver.moc"
