// The blocked, threaded upper Cholesky factor H = R R^T (gptq_cholesky.hpp) against Eigen's LLT
// of the reversed matrix in double precision, on fresh random SPD matrices whose size is not a
// multiple of the panel; and the failure report on indefinite or non-finite input.
#include "core/quant/gptq_cholesky.hpp"

#include <QtTest/QtTest>

#include <Eigen/Cholesky>

#include <random>

using namespace qs;

namespace {

Eigen::MatrixXd randomSpd(int k, std::mt19937_64& rng)
{
    std::normal_distribution<double> g(0.0, 1.0);
    Eigen::MatrixXd x(2 * k, k);
    for (Eigen::Index i = 0; i < x.size(); ++i)
        x.data()[i] = g(rng);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int c = 0; c < k; ++c)
        x.col(c) *= std::pow(10.0, u(rng)); // channel scales over 10x, as activations have
    Eigen::MatrixXd h = x.transpose() * x / double(2 * k);
    h.diagonal().array() += 0.01 * h.diagonal().mean(); // GPTQ's damping
    return h;
}

// R = J L J with J H J = L L^T: Eigen's factorization of the reversed matrix, reversed back.
Eigen::MatrixXd referenceUpper(const Eigen::MatrixXd& h)
{
    const Eigen::MatrixXd rev = h.reverse();
    const Eigen::MatrixXd l = Eigen::LLT<Eigen::MatrixXd>(rev).matrixL();
    return l.reverse();
}

} // namespace

class TestGptqCholesky : public QObject {
    Q_OBJECT
private slots:
    void matchesEigenReference_data();
    void matchesEigenReference();
    void reportsIndefiniteAndNonFinite();
};

void TestGptqCholesky::matchesEigenReference_data()
{
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("panel");
    QTest::newRow("k 300 panel 64") << 300 << 64;
    QTest::newRow("k 257 panel 256") << 257 << 256;
    QTest::newRow("k 40 panel 256 (one block)") << 40 << 256;
    QTest::newRow("k 130 panel 1") << 130 << 1;
}

void TestGptqCholesky::matchesEigenReference()
{
    QFETCH(int, k);
    QFETCH(int, panel);
    const auto seed = std::random_device{}();
    std::mt19937_64 rng(seed);
    const Eigen::MatrixXd h = randomSpd(k, rng);
    const Eigen::MatrixXd ref = referenceUpper(h);
    ThreadPool pool(3);

    // Only the upper triangle is read: garbage below must not matter.
    Eigen::MatrixXd a = h;
    a.triangularView<Eigen::StrictlyLower>().setConstant(std::nan(""));
    QVERIFY(quant::upperCholeskyInPlace<double>(a, pool, panel));
    QVERIFY(a.triangularView<Eigen::StrictlyLower>().toDenseMatrix().isZero(0.0));
    const double errD = (a - ref).norm() / ref.norm();
    const double recD = (a * a.transpose() - h).norm() / h.norm();
    // Double: rounding only (cond(H) is about 1e4 here).
    QVERIFY2(errD < 1e-11 && recD < 1e-13, qPrintable(QString("double: factor %1, R R^T %2 (seed %3)")
                                                          .arg(errD).arg(recD).arg(seed)));

    Eigen::MatrixXf af = h.cast<float>();
    QVERIFY(quant::upperCholeskyInPlace<float>(af, pool, panel));
    const double errF = (af.cast<double>() - ref).norm() / ref.norm();
    const double recF = (af.cast<double>() * af.cast<double>().transpose() - h).norm() / h.norm();
    // Single: f32 epsilon 6e-8 times the growth with cond(H) and k.
    QVERIFY2(errF < 1e-4 && recF < 1e-5, qPrintable(QString("float: factor %1, R R^T %2 (seed %3)")
                                                        .arg(errF).arg(recF).arg(seed)));
}

void TestGptqCholesky::reportsIndefiniteAndNonFinite()
{
    std::mt19937_64 rng(std::random_device{}());
    ThreadPool pool(2);
    Eigen::MatrixXd h = randomSpd(100, rng);
    Eigen::MatrixXd bad = h;
    bad(10, 10) = -1.0; // a pivot in the first columns, which are factored last
    QVERIFY(!quant::upperCholeskyInPlace<double>(bad, pool, 32));
    bad = h;
    bad(95, 95) = -1.0; // in the first panel factored
    QVERIFY(!quant::upperCholeskyInPlace<double>(bad, pool, 32));
    Eigen::MatrixXf nan = h.cast<float>();
    nan(3, 50) = std::nanf("");
    QVERIFY(!quant::upperCholeskyInPlace<float>(nan, pool, 32));
}

QTEST_GUILESS_MAIN(TestGptqCholesky)
#include "test_gptq_cholesky.moc"
