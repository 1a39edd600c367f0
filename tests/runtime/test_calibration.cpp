// Block-by-block calibration against a direct computation over a full forward pass with hooks:
// per-channel absmax / mean|x| / mean x^2, the GPTQ Hessian 2/n X^T X, the bounded sample, the
// replacement of a block's linears between capture and output, and cancellation.
#include "common/test_support.hpp"

#include "core/calib/block_capture.hpp"
#include "core/calib/sample_batches.hpp"
#include "core/compute/hessian_sum.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"
#include "core/model/model.hpp"

#include <QtTest/QtTest>

#include <atomic>
#include <limits>
#include <map>
#include <random>

using namespace qs;
using runtime::LinearRole;
using runtime::Mat;

namespace {

runtime::Transformer loadFixture(const char* name)
{
    auto model = model::openModel((test::fixturesDir() / name).string());
    return runtime::Transformer(runtime::loadLlamaWeights(model));
}

calib::CalibrationSet randomSet(int vocab, int samples, int length)
{
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    std::vector<std::int32_t> stream(std::size_t(samples * length * 3));
    for (auto& t : stream)
        t = tok(rng);
    return calib::sampleWindows(stream, samples, length, rng());
}

double rel(const Mat& a, const Mat& b) { return double((a - b).norm()) / std::max(double(b.norm()), 1e-30); }

} // namespace

class TestCalibration : public QObject {
    Q_OBJECT
private slots:
    void statsMatchDirectComputation_data();
    void statsMatchDirectComputation();
    void hessianSumMatchesReference_data();
    void hessianSumMatchesReference();
    void hessianOnlyAtRequestedSites();
    void replacedLinearsFeedNextBlock();
    void cancels();
    void sampleWindowsAreSeeded();
    void sampleBatchesKeepOrderAndBudget();
};

namespace {

// The backend a data row names: "" (none: Eigen on this thread), "cpu" or "vulkan" (nullptr
// when no Vulkan device works here).
std::shared_ptr<compute::Backend> backendNamed(const QString& name)
{
    if (name == "cpu")
        return compute::makeCpuBackend();
    if (name == "vulkan") {
        auto b = compute::makeBackend(true);
        return b->isGpu() ? std::shared_ptr<compute::Backend>(std::move(b)) : nullptr;
    }
    return nullptr;
}

} // namespace

void TestCalibration::statsMatchDirectComputation_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<int>("batchRows");
    QTest::addColumn<int>("sampleRows"); // rows of samples stacked per block forward (0: all 5)
    QTest::newRow("eigen") << QString() << 0 << 0;
    QTest::newRow("eigen, samples one by one") << QString() << 0 << 16;
    QTest::newRow("cpu backend") << QString("cpu") << 0 << 0;
    QTest::newRow("cpu backend, 24-row batches, samples in pairs") << QString("cpu") << 24 << 32;
    QTest::newRow("vulkan") << QString("vulkan") << 0 << 0;
    QTest::newRow("vulkan, 24-row batches") << QString("vulkan") << 24 << 0;  // stacked, flushed when full
    QTest::newRow("vulkan, 8-row batches, samples in pairs") << QString("vulkan") << 8 << 32; // each straight through
}

void TestCalibration::statsMatchDirectComputation()
{
    QFETCH(QString, backend);
    QFETCH(int, batchRows);
    QFETCH(int, sampleRows);
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    const auto onBackend = backendNamed(backend);
    if (!backend.isEmpty() && !onBackend)
        QSKIP("no Vulkan device here");
    try {
        auto tf = loadFixture("llama");
        const auto set = randomSet(int(tf.spec().vocabSize), 5, 16);

        // Direct: every linear input of every block over full forwards.
        std::map<std::pair<int, int>, Mat> inputs; // (block, site) -> stacked rows
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int b, LinearRole r, const Mat& x) {
            if (r == LinearRole::K || r == LinearRole::V || r == LinearRole::Up)
                return;
            Mat& m = inputs[{b, int(calib::inputSiteOf(r))}];
            m.conservativeResize(m.rows() + x.rows(), x.cols());
            m.bottomRows(x.rows()) = x;
        };
        for (const auto& s : set.samples)
            tf.forward(s, nullptr, &hooks);

        calib::CaptureOptions opt;
        opt.maxSampleRows = 32;
        opt.backend = onBackend;
        opt.hessianBatchRows = batchRows;
        opt.batchRows = sampleRows;
        int blocksSeen = 0;
        calib::streamCalibration(tf, set, opt, [&](calib::BlockCalibration& cal) {
            ++blocksSeen;
            for (int site = 0; site < 4; ++site) {
                const Mat& x = inputs[{cal.block, site}];
                const auto& st = cal.site(calib::InputSite(site));
                QCOMPARE(st.tokens(), std::int64_t(x.rows()));
                const runtime::Vec absmax = x.cwiseAbs().colwise().maxCoeff().transpose();
                const runtime::Vec meanAbs = x.cwiseAbs().colwise().mean().transpose();
                const runtime::Vec meanSq = x.cwiseAbs2().colwise().mean().transpose();
                QVERIFY(rel(st.absmax(), absmax) < 1e-5);
                QVERIFY(rel(st.meanAbs(), meanAbs) < 1e-5);
                QVERIFY(rel(st.meanSquare(), meanSq) < 1e-5);
                const Eigen::MatrixXd h = (2.0 / double(x.rows())) * (x.cast<double>().transpose() * x.cast<double>());
                QVERIFY(rel(st.gptqHessian(), h.cast<float>()) < 1e-5);
                QCOMPARE(st.sample().rows(), Eigen::Index(32));
                // Every sampled row is one of the real input rows.
                for (Eigen::Index r = 0; r < st.sample().rows(); ++r) {
                    bool found = false;
                    for (Eigen::Index i = 0; i < x.rows() && !found; ++i)
                        found = st.sample().row(r) == x.row(i);
                    QVERIFY(found);
                }
            }
        });
        QCOMPARE(blocksSeen, int(tf.spec().numLayers));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestCalibration::hessianSumMatchesReference_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<bool>("smallBindings");
    QTest::newRow("cpu") << QString("cpu") << false;
    QTest::newRow("vulkan") << QString("vulkan") << false;
    // Bindings too small for the kernel: the sum moves to the host and goes on there.
    QTest::newRow("vulkan, falls back to the host") << QString("vulkan") << true;
}

// A running X^T X over batches of fresh random rows (K not a multiple of the 64-wide tiles)
// against the same sum in double precision; then read twice (reading does not disturb it).
void TestCalibration::hessianSumMatchesReference()
{
    QFETCH(QString, backend);
    QFETCH(bool, smallBindings);
    const auto onBackend = backendNamed(backend);
    if (!onBackend)
        QSKIP("no Vulkan device here");
    try {
        std::mt19937 rng(std::random_device{}());
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const int k = 96 + int(rng() % 40);
        auto sum = compute::makeHessianSum(*onBackend, k);
        QCOMPARE(sum->k(), k);
        Eigen::MatrixXd reference = Eigen::MatrixXd::Zero(k, k);
        Mat h(k, k);
        for (int m : {1, 37, 300, 5}) {
            Mat x(m, k);
            for (Eigen::Index i = 0; i < x.size(); ++i)
                x.data()[i] = nd(rng);
            if (m == 300 && smallBindings)
                static_cast<compute::VulkanBackend&>(*onBackend).setMaxBindingBytesForTesting(64);
            sum->add(x.data(), m);
            reference += x.cast<double>().transpose() * x.cast<double>();
            h.setConstant(std::numeric_limits<float>::quiet_NaN());
            sum->read(h.data());
            QVERIFY(h.allFinite());
            const double err = (h.cast<double>() - reference).norm() / reference.norm();
            if (err > 1e-6)
                QFAIL(qPrintable(QString("k %1, after %2 rows: normalized error %3 > 1e-6").arg(k).arg(m).arg(err)));
        }
        QVERIFY_THROWS_EXCEPTION(compute::ComputeError, compute::makeHessianSum(*onBackend, 0));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// GPTQ's true-sequential order asks for the block input's Hessian alone: the other sites keep
// their statistics and samples but gather no X^T X.
void TestCalibration::hessianOnlyAtRequestedSites()
{
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    try {
        auto tf = loadFixture("llama");
        const auto set = randomSet(int(tf.spec().vocabSize), 2, 8);
        calib::CaptureOptions opt;
        opt.backend = compute::makeCpuBackend();
        opt.hessianSites = 1u << unsigned(calib::InputSite::Attention);
        int blocks = 0;
        calib::streamCalibration(tf, set, opt, [&](calib::BlockCalibration& cal) {
            ++blocks;
            for (int site = 0; site < 4; ++site) {
                const auto& st = cal.site(calib::InputSite(site));
                QCOMPARE(st.tokens(), std::int64_t(16));
                QCOMPARE(st.gptqHessian().size() > 0, site == int(calib::InputSite::Attention));
                QVERIFY(st.absmax().maxCoeff() > 0.0f);
            }
        });
        QCOMPARE(blocks, int(tf.spec().numLayers));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestCalibration::replacedLinearsFeedNextBlock()
{
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    try {
        auto tf = loadFixture("llama");
        auto reference = loadFixture("llama");
        const auto set = randomSet(int(tf.spec().vocabSize), 3, 12);
        // Perturb block 0's down_proj inside the callback (as a quantizer would); block 1 must
        // then see the inputs of the perturbed model.
        std::mt19937 rng(std::random_device{}());
        std::normal_distribution<float> nd(0.0f, 0.05f);
        const auto& down = dynamic_cast<const runtime::DenseLinear&>(*tf.weights().blocks[0].linear(LinearRole::Down));
        Mat w = down.weight();
        for (Eigen::Index i = 0; i < w.size(); ++i)
            w.data()[i] += nd(rng);
        auto replacement = std::make_shared<runtime::DenseLinear>(w, std::nullopt);
        reference.weights().blocks[0].linear(LinearRole::Down) = replacement;

        Mat expected;
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int b, LinearRole r, const Mat& x) {
            if (b == 1 && r == LinearRole::Q) {
                expected.conservativeResize(expected.rows() + x.rows(), x.cols());
                expected.bottomRows(x.rows()) = x;
            }
        };
        for (const auto& s : set.samples)
            reference.forward(s, nullptr, &hooks);
        const runtime::Vec expectedAbsmax = expected.cwiseAbs().colwise().maxCoeff().transpose();

        bool checked = false;
        calib::streamCalibration(tf, set, {}, [&](calib::BlockCalibration& cal) {
            if (cal.block == 0)
                tf.weights().blocks[0].linear(LinearRole::Down) = replacement;
            if (cal.block == 1) {
                QVERIFY(rel(cal.site(calib::InputSite::Attention).absmax(), expectedAbsmax) < 1e-5);
                checked = true;
            }
        });
        QVERIFY(checked);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestCalibration::cancels()
{
    if (!std::filesystem::exists(test::fixturesDir() / "llama" / "config.json"))
        QSKIP("fixture missing");
    try {
        auto tf = loadFixture("llama");
        const auto set = randomSet(int(tf.spec().vocabSize), 4, 8);
        std::atomic<bool> cancel{false};
        int updates = 0;
        jobs::Progress progress([&](const jobs::ProgressUpdate&) {
            if (++updates == 3)
                cancel = true;
        }, &cancel);
        int blocks = 0;
        bool threw = false;
        try {
            calib::streamCalibration(tf, set, {}, [&](calib::BlockCalibration&) { ++blocks; }, &progress);
        } catch (const jobs::Cancelled&) {
            threw = true;
        }
        QVERIFY(threw);
        QVERIFY(blocks < int(tf.spec().numLayers));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// Batches of consecutive samples of one length within the row budget; stacking and unstacking
// give the samples back as they were.
void TestCalibration::sampleBatchesKeepOrderAndBudget()
{
    std::mt19937 rng(std::random_device{}());
    std::normal_distribution<float> nd;
    std::vector<Mat> samples;
    for (int len : {8, 8, 8, 5, 8, 8, 20}) {
        Mat m(len, 3);
        for (Eigen::Index i = 0; i < m.size(); ++i)
            m.data()[i] = nd(rng);
        samples.push_back(m);
    }
    const auto batches = calib::planSampleBatches(samples, 16);
    const std::vector<std::pair<std::size_t, std::size_t>> expected{{0, 2}, {2, 1}, {3, 1}, {4, 2}, {6, 1}};
    QCOMPARE(batches.size(), expected.size());
    for (std::size_t i = 0; i < batches.size(); ++i) {
        QCOMPARE(batches[i].first, expected[i].first);
        QCOMPARE(batches[i].count, expected[i].second);
        QCOMPARE(std::size_t(batches[i].seqLen), std::size_t(samples[batches[i].first].rows()));
    }
    std::vector<Mat> back(samples.size());
    for (const auto& b : batches) {
        const Mat stacked = calib::stackBatch(samples, b);
        QCOMPARE(stacked.rows(), Eigen::Index(b.count) * b.seqLen);
        calib::unstackBatch(stacked, b, back);
    }
    for (std::size_t i = 0; i < samples.size(); ++i)
        QVERIFY(back[i] == samples[i]);
    QVERIFY_THROWS_EXCEPTION(std::exception, calib::planSampleBatches(samples, 0));
    QVERIFY_THROWS_EXCEPTION(std::exception, calib::unstackBatch(Mat(7, 3), batches[0], back));
}

void TestCalibration::sampleWindowsAreSeeded()
{
    std::vector<std::int32_t> stream(1000);
    std::iota(stream.begin(), stream.end(), 0);
    const auto a = calib::sampleWindows(stream, 8, 50, 42);
    const auto b = calib::sampleWindows(stream, 8, 50, 42);
    const auto c = calib::sampleWindows(stream, 8, 50, 43);
    QCOMPARE(a.samples, b.samples);
    QVERIFY(a.samples != c.samples);
    for (const auto& s : a.samples) {
        QCOMPARE(int(s.size()), 50);
        for (std::size_t i = 1; i < s.size(); ++i)
            QCOMPARE(s[i], s[i - 1] + 1); // contiguous windows of the text
    }
    QCOMPARE(calib::sampleWindows(stream, 2, 2048, 1, 128).length, 128); // capped by context
    QVERIFY_THROWS_EXCEPTION(qs::Error, calib::sampleWindows(stream, 2, 5000, 1));
}

QTEST_APPLESS_MAIN(TestCalibration)
#include "test_calibration.moc"
