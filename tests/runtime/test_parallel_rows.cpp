// The steps of the forward pass that are split across the thread pool for prefill-sized
// batches: RMSNorm and RoPE on fresh random [T][width] inputs large enough to split equal the
// row-at-a-time computation (RoPE per position from its own start) exactly, RMSNorm matches a
// double-precision reference within 1e-6 normalized error; causal attention in blocks of query
// rows (only the keys each block sees) gives the logits of token-by-token decoding within 1e-5,
// from position 0 and from a KV cache. The suite forces 4 threads (QS_THREADS) so that the
// split happens even on one core.
#include "common/test_support.hpp"

#include "core/model/arch_spec.hpp"
#include "core/model/model.hpp"
#include "core/runtime/rope.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/thread_pool.hpp"

#include <QtTest/QtTest>

#include <filesystem>
#include <random>
#include <span>

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
    void blockedAttentionMatchesDecoding_data();
    void blockedAttentionMatchesDecoding();
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

void TestParallelRows::blockedAttentionMatchesDecoding_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::newRow("llama") << QString("llama");
    QTest::newRow("qwen2 (grouped kv heads)") << QString("qwen2");
}

void TestParallelRows::blockedAttentionMatchesDecoding()
{
    QFETCH(QString, fixture);
    const auto dir = test::fixturesDir() / fixture.toStdString();
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        const runtime::Transformer tf(runtime::loadLlamaWeights(model));
        std::mt19937 rng(std::random_device{}());
        const int first = 70 + int(rng() % 40), second = 66 + int(rng() % 40);  // > 64: several blocks
        std::vector<std::int32_t> tokens(std::size_t(first + second));
        for (auto& t : tokens)
            t = std::int32_t(rng() % std::uint32_t(tf.spec().vocabSize));
        // Reference: one token at a time (one query row: no blocks, every cached key visible).
        runtime::KvCache stepCache;
        Mat reference(Eigen::Index(tokens.size()), tf.spec().vocabSize);
        for (std::size_t i = 0; i < tokens.size(); ++i)
            reference.row(Eigen::Index(i)) = tf.forward(std::span(tokens).subspan(i, 1), &stepCache).row(0);
        // Whole prompt at once, and in two chunks (the second attends to the first's cache).
        const Mat whole = tf.forward(tokens);
        runtime::KvCache cache;
        Mat chunked(Eigen::Index(tokens.size()), tf.spec().vocabSize);
        chunked.topRows(first) = tf.forward(std::span(tokens).first(std::size_t(first)), &cache);
        chunked.bottomRows(second) = tf.forward(std::span(tokens).subspan(std::size_t(first)), &cache);
        const auto err = [&](const Mat& a) { return double((a - reference).norm()) / double(reference.norm()); };
        QVERIFY2(err(whole) < 1e-5, qPrintable(QString("whole prompt: normalized error %1").arg(err(whole))));
        QVERIFY2(err(chunked) < 1e-5, qPrintable(QString("two chunks: normalized error %1").arg(err(chunked))));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_APPLESS_MAIN(TestParallelRows)
#include "test_parallel_rows.moc"
