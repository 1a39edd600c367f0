// The row-wise steps of the forward pass that are split across the thread pool for prefill-sized
// batches (RMSNorm, RoPE): on fresh random [T][width] inputs large enough to split, the result
// equals the row-at-a-time computation (RoPE per position from its own start) exactly, and
// RMSNorm matches a double-precision reference within 1e-6 normalized error. The suite forces
// 4 threads (QS_THREADS) so that the split happens even on one core.
#include "core/model/arch_spec.hpp"
#include "core/runtime/rope.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/thread_pool.hpp"

#include <QtTest/QtTest>

#include <random>

using namespace qs;
using runtime::Mat;

namespace {

Mat randomMat(int rows, int cols, std::mt19937& rng)
{
    std::normal_distribution<float> d(0.0f, 2.0f);
    Mat m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = d(rng);
    return m;
}

} // namespace

class TestParallelRows : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        qputenv("QS_THREADS", "4");
        QVERIFY(ThreadPool::shared().threads() == 4);
    }
    void rmsNormMatchesReference();
    void ropeMatchesRowAtATime_data();
    void ropeMatchesRowAtATime();
};

void TestParallelRows::rmsNormMatchesReference()
{
    std::mt19937 rng(std::random_device{}());
    const int t = 96 + int(rng() % 64), width = 1024 + 8 * int(rng() % 16);  // >= 2^16 values: split
    const Mat x = randomMat(t, width, rng);
    runtime::Vec w = randomMat(width, 1, rng);
    const double eps = 1e-5;
    Mat y = x;
    runtime::Transformer::rmsNorm(y, w, eps);
    Eigen::MatrixXd ref(t, width);
    for (int r = 0; r < t; ++r) {
        const Eigen::VectorXd row = x.row(r).transpose().cast<double>();
        const double inv = 1.0 / std::sqrt(row.squaredNorm() / double(width) + eps);
        ref.row(r) = (row * inv).cwiseProduct(w.cast<double>()).transpose();
    }
    const double err = (y.cast<double>() - ref).norm() / ref.norm();
    QVERIFY2(err < 1e-6, qPrintable(QString("normalized error %1").arg(err)));
    QVERIFY(y.allFinite());
}

void TestParallelRows::ropeMatchesRowAtATime_data()
{
    QTest::addColumn<bool>("interleaved");
    QTest::newRow("rotate half") << false;
    QTest::newRow("interleaved") << true;
}

void TestParallelRows::ropeMatchesRowAtATime()
{
    QFETCH(bool, interleaved);
    std::mt19937 rng(std::random_device{}());
    model::ArchSpec spec;
    spec.numHeads = 8;
    spec.numKvHeads = 8;
    spec.headDim = 64;
    spec.hiddenSize = 512;
    spec.ropeTheta = 10000.0;
    const runtime::Rope rope(spec, interleaved);
    const int t = 160 + int(rng() % 64), start = int(rng() % 1000);
    const Mat x = randomMat(t, 8 * 64, rng);
    Mat all = x;
    rope.apply(all, 8, start);  // one call over every position: split across threads
    for (int r = 0; r < t; ++r) {
        Mat one = x.row(r);
        rope.apply(one, 8, start + r);  // the same position alone
        QVERIFY2(one == all.row(r), qPrintable(QString("row %1 differs").arg(r)));
    }
    QVERIFY(all != x);
}

QTEST_APPLESS_MAIN(TestParallelRows)
#include "test_parallel_rows.moc"
