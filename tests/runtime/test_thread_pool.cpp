// The CPU thread pool (core/util/thread_pool.hpp) and the products it splits: every index of a
// range is visited exactly once, exceptions reach the caller, nested calls run inline; the
// dense linear, the CPU backend's dequantizing GEMM and Hessian, and the whole forward pass
// (attention heads split) agree with single-thread references within float tolerance. The
// suite forces 4 threads (QS_THREADS) so that the split happens even on one core.
#include "common/test_support.hpp"

#include "core/compute/backend.hpp"
#include "core/io/safetensors.hpp"
#include "core/model/model.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/thread_pool.hpp"

#include <QtTest/QtTest>

#include <atomic>
#include <random>

using namespace qs;
using runtime::Mat;

namespace {

Mat randomMat(int rows, int cols, std::mt19937& rng)
{
    std::normal_distribution<float> d;
    Mat m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = d(rng);
    return m;
}

double rel(const Mat& a, const Mat& ref) { return double((a - ref).norm()) / std::max(double(ref.norm()), 1e-30); }

} // namespace

class TestThreadPool : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void coversRangeOnce();
    void propagatesExceptions();
    void nestedRunsInline();
    void denseLinearMatchesSingleThread();
    void backendProductsMatchSingleThread();
    void forwardMatchesGolden();
};

void TestThreadPool::initTestCase()
{
    qputenv("QS_THREADS", "4");
    QCOMPARE(configuredThreads(), 4);
    QCOMPARE(ThreadPool::shared().threads(), 4);
}

void TestThreadPool::coversRangeOnce()
{
    ThreadPool pool(3);
    for (std::int64_t count : {1, 2, 3, 7, 64, 1000, 1001}) {
        std::vector<std::atomic<int>> seen(static_cast<std::size_t>(count));
        std::atomic<int> calls{0};
        pool.parallelFor(count, [&](std::int64_t b, std::int64_t e) {
            ++calls;
            for (std::int64_t i = b; i < e; ++i)
                ++seen[std::size_t(i)];
        });
        for (const auto& s : seen)
            QCOMPARE(s.load(), 1);
        QVERIFY(calls.load() >= 1 && calls.load() <= 3);
    }
    // minChunk keeps short ranges on fewer threads.
    std::atomic<int> calls{0};
    pool.parallelFor(100, [&](std::int64_t, std::int64_t) { ++calls; }, 100);
    QCOMPARE(calls.load(), 1);
}

void TestThreadPool::propagatesExceptions()
{
    ThreadPool pool(3);
    bool caught = false;
    try {
        pool.parallelFor(90, [](std::int64_t b, std::int64_t) {
            if (b > 0)
                throw std::runtime_error("worker failed");
        });
    } catch (const std::runtime_error& e) {
        caught = QString(e.what()) == "worker failed";
    }
    QVERIFY(caught);
    // The pool still works afterwards.
    std::atomic<std::int64_t> sum{0};
    pool.parallelFor(10, [&](std::int64_t b, std::int64_t e) {
        for (auto i = b; i < e; ++i)
            sum += i;
    });
    QCOMPARE(sum.load(), std::int64_t(45));
}

void TestThreadPool::nestedRunsInline()
{
    ThreadPool pool(2);
    std::atomic<int> inner{0};
    pool.parallelFor(4, [&](std::int64_t b, std::int64_t e) {
        for (auto i = b; i < e; ++i)
            pool.parallelFor(5, [&](std::int64_t bb, std::int64_t ee) { inner += int(ee - bb); });
    });
    QCOMPARE(inner.load(), 20);
}

void TestThreadPool::denseLinearMatchesSingleThread()
{
    std::mt19937 rng(std::random_device{}());
    for (int m : {1, 7, 33}) { // m * n * k >= 2^20: split
        const Mat w = randomMat(1030, 1024, rng), x = randomMat(m, 1024, rng);
        runtime::Vec bias = runtime::Vec::Random(1030);
        runtime::DenseLinear lin(w, bias);
        Mat y;
        lin.forward(x, y);
        Mat ref = x * w.transpose();
        ref.rowwise() += bias.transpose();
        const double err = rel(y, ref);
        QVERIFY2(err < 1e-6, qPrintable(QString("m=%1: %2").arg(m).arg(err)));
    }
}

void TestThreadPool::backendProductsMatchSingleThread()
{
    try {
        std::mt19937 rng(std::random_device{}());
        auto backend = compute::makeCpuBackend();
        const Mat w = randomMat(1200, 128, rng), x = randomMat(9, 128, rng);
        const auto half = std::make_shared<const compute::WeightMatrix>(runtime::toDenseHalf(w));
        const Mat wq = quant::dequantize(*half);
        Mat y(9, 1200);
        backend->dequantGemm(x.data(), 9, *backend->prepare(half), y.data());
        const Mat ref = x * wq.transpose();
        QVERIFY2(rel(y, ref) < 1e-6, qPrintable(QString::number(rel(y, ref))));

        const Mat xs = randomMat(200, 160, rng);
        Mat h = Mat::Zero(160, 160);
        backend->hessianAccumulate(xs.data(), 200, 160, h.data());
        backend->hessianAccumulate(xs.data(), 200, 160, h.data());
        const Mat href = 2.0f * (xs.transpose() * xs);
        QVERIFY2(rel(h, href) < 1e-6, qPrintable(QString::number(rel(h, href))));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestThreadPool::forwardMatchesGolden()
{
    // transformers' logits (f32, single process) against the split forward pass; 40 tokens so
    // that the heads are split, qwen3 for its 4 heads of 32.
    const auto dir = test::fixturesDir() / "qwen3";
    if (!std::filesystem::exists(dir / "golden.safetensors"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        runtime::Transformer tf(runtime::loadLlamaWeights(model));
        auto golden = io::openSafetensors(dir / "golden.safetensors");
        const Tensor ids = golden->readF32("input_ids");
        const std::vector<std::int32_t> tokens(ids.data.begin(), ids.data.end());
        const Tensor logits = golden->readF32("logits");
        const Mat ref = Eigen::Map<const Mat>(logits.data.data(), logits.shape[0], logits.shape[1]);
        const double err = rel(tf.forward(tokens), ref);
        QVERIFY2(err < 1e-4, qPrintable(QString::number(err)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestThreadPool)
#include "test_thread_pool.moc"
