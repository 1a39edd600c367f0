// Causal GQA attention (Backend::attention): the CPU backend against a naive double-precision
// softmax written out here, and attention.comp on lavapipe (or the QS_VULKAN_DEVICE) against
// the CPU twin, on fresh random q/k/v. Threshold: normalized error (||a - b|| / ||b||) 1e-5 for
// both; f32 products and an online softmax in another order stay near 1e-7.
#include "core/compute/cpu/cpu_backend.hpp"
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace qs::compute;

namespace {

constexpr double kThreshold = 1e-5;

std::mt19937 freshRng() { return std::mt19937(std::random_device{}()); }

double normalizedError(const std::vector<float>& a, const std::vector<float>& ref)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return std::isfinite(num) && den > 0 ? std::sqrt(num / den) : INFINITY;
}

struct Inputs {
    AttentionShape shape;
    std::vector<float> q, k, v;
    std::size_t outSize() const { return q.size(); }
};

// q ~ N(0, qSigma): a large sigma makes the softmax peaked (scores of several hundred).
Inputs randomInputs(const AttentionShape& s, std::mt19937& rng, float qSigma = 1.0f)
{
    const std::size_t qn = std::size_t(s.samples) * s.queries * s.heads * s.headDim;
    const std::size_t kvn = std::size_t(s.samples) * s.keys * s.kvHeads * s.headDim;
    return {s, randomNormal(qn, rng, qSigma), randomNormal(kvn, rng), randomNormal(kvn, rng)};
}

// Element by element in double, from the definition.
std::vector<float> naiveAttention(const Inputs& in)
{
    const auto& s = in.shape;
    const int D = s.headDim, group = s.heads / s.kvHeads;
    std::vector<float> out(in.outSize());
    std::vector<double> p(std::size_t(s.keys));
    for (int n = 0; n < s.samples; ++n)
        for (int t = 0; t < s.queries; ++t)
            for (int h = 0; h < s.heads; ++h) {
                const float* qr = in.q.data() + ((std::size_t(n) * s.queries + t) * s.heads + h) * D;
                const int visible = s.keys - s.queries + t + 1;
                double mx = -INFINITY;
                for (int j = 0; j < visible; ++j) {
                    const float* kr = in.k.data() + ((std::size_t(n) * s.keys + j) * s.kvHeads + h / group) * D;
                    double dot = 0;
                    for (int d = 0; d < D; ++d)
                        dot += double(qr[d]) * double(kr[d]);
                    p[std::size_t(j)] = dot / std::sqrt(double(D));
                    mx = std::max(mx, p[std::size_t(j)]);
                }
                double sum = 0;
                for (int j = 0; j < visible; ++j)
                    sum += (p[std::size_t(j)] = std::exp(p[std::size_t(j)] - mx));
                for (int d = 0; d < D; ++d) {
                    double acc = 0;
                    for (int j = 0; j < visible; ++j)
                        acc += p[std::size_t(j)] * double(in.v[((std::size_t(n) * s.keys + j) * s.kvHeads + h / group) * D + d]);
                    out[((std::size_t(n) * s.queries + t) * s.heads + h) * D + d] = float(acc / sum);
                }
            }
    return out;
}

std::vector<float> run(Backend& b, const Inputs& in)
{
    std::vector<float> out(in.outSize(), NAN);
    b.attention(in.shape, in.q.data(), in.k.data(), in.v.data(), out.data());
    return out;
}

QString describe(const AttentionShape& s)
{
    return QString("%1 samples, T=%2, S=%3, heads %4/%5, D=%6")
        .arg(s.samples).arg(s.queries).arg(s.keys).arg(s.heads).arg(s.kvHeads).arg(s.headDim);
}

void addShapeColumns()
{
    QTest::addColumn<int>("samples");
    QTest::addColumn<int>("queries");
    QTest::addColumn<int>("prefix");  // cached keys before the queries
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<int>("headDim");
    QTest::addColumn<float>("qSigma");
}

AttentionShape fetchShape()
{
    QFETCH(int, samples);
    QFETCH(int, queries);
    QFETCH(int, prefix);
    QFETCH(int, kvHeads);
    QFETCH(int, headDim);
    return {samples, queries, queries + prefix, 4, kvHeads, headDim};
}

} // namespace

class TestAttention : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cpuMatchesNaive_data();
    void cpuMatchesNaive();
    void vulkanMatchesCpu_data();
    void vulkanMatchesCpu();
    void vulkanSplitsBindings();
    void vulkanStagedTransfers();
    void unsupportedHeadDimFallsBackToCpu();
    void rejectsBadShapes();

private:
    std::unique_ptr<VulkanBackend> gpu_;
    CpuBackend cpu_;
    QString why_;
    double worst_ = 0;
};

#define REQUIRE_GPU()                                                                                                  \
    if (!gpu_)                                                                                                         \
    QSKIP(qPrintable("no Vulkan device: " + why_))

void TestAttention::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    why_ = QString::fromStdString(why);
    if (gpu_)
        qInfo("%s", describeDevice(gpu_->device()).c_str());
}

void TestAttention::cpuMatchesNaive_data()
{
    addShapeColumns();
    QTest::newRow("T1") << 1 << 1 << 0 << 2 << 16 << 1.0f;
    QTest::newRow("T70 gqa2 over two row blocks") << 2 << 70 << 0 << 2 << 16 << 1.0f;
    QTest::newRow("T9 after 30 cached mqa") << 1 << 9 << 30 << 1 << 32 << 1.0f;
    QTest::newRow("T40 peaked") << 1 << 40 << 5 << 4 << 64 << 30.0f;
}

void TestAttention::cpuMatchesNaive()
{
    const auto shape = fetchShape();
    QFETCH(float, qSigma);
    auto rng = freshRng();
    const auto in = randomInputs(shape, rng, qSigma);
    const double err = normalizedError(run(cpu_, in), naiveAttention(in));
    QVERIFY2(err < kThreshold, qPrintable(QString("error %1 for %2").arg(err).arg(describe(shape))));
}

void TestAttention::vulkanMatchesCpu_data()
{
    addShapeColumns();
    for (int headDim : {64, 128})
        for (int kvHeads : {4, 2, 1})
            for (int queries : {1, 17, 100})
                for (int prefix : {0, 37}) {
                    const auto name = QString("D%1 kv%2 T%3 +%4").arg(headDim).arg(kvHeads).arg(queries).arg(prefix).toStdString();
                    QTest::newRow(name.c_str()) << 2 << queries << prefix << kvHeads << headDim << 1.0f;
                }
    // The head dims of the tiny fixtures (16, 32) and one between (96); a peaked softmax
    // (scores in the hundreds: the running maximum must carry it); one sample; many samples.
    QTest::newRow("D16 kv2 T33") << 2 << 33 << 0 << 2 << 16 << 1.0f;
    QTest::newRow("D32 kv2 T65 +3") << 1 << 65 << 3 << 2 << 32 << 1.0f;
    QTest::newRow("D96 kv4 T50") << 1 << 50 << 0 << 4 << 96 << 1.0f;
    QTest::newRow("D128 kv2 T64 peaked") << 1 << 64 << 0 << 2 << 128 << 30.0f;
    QTest::newRow("D64 kv1 T31 +1 peaked") << 1 << 31 << 1 << 1 << 64 << 30.0f;
    QTest::newRow("D64 kv2 T20 x9 samples") << 9 << 20 << 0 << 2 << 64 << 1.0f;
}

void TestAttention::vulkanMatchesCpu()
{
    REQUIRE_GPU();
    const auto shape = fetchShape();
    QFETCH(float, qSigma);
    auto rng = freshRng();
    const auto in = randomInputs(shape, rng, qSigma);
    const auto got = run(*gpu_, in);
    QVERIFY2(gpu_->lastRanOnGpu(), qPrintable("fell back to the CPU: " + describe(shape)));
    const double err = normalizedError(got, run(cpu_, in));
    worst_ = std::max(worst_, err);
    QVERIFY2(err < kThreshold, qPrintable(QString("error %1 for %2").arg(err).arg(describe(shape))));
    if (QString(QTest::currentDataTag()) == "D64 kv2 T20 x9 samples")
        qInfo("largest normalized error so far: %.3g", worst_);
}

// Tiny bindings: several samples per dispatch, then query rows of one sample per dispatch
// (keys and values bound whole), then keys that fit no binding (the CPU runs it).
void TestAttention::vulkanSplitsBindings()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const AttentionShape shape{3, 70, 90, 4, 1, 64};  // q: 71680 bytes a sample, k/v: 23040
    const auto in = randomInputs(shape, rng);
    const auto ref = run(cpu_, in);
    for (std::uint64_t binding : {160000ull, 40000ull, 20000ull}) {
        gpu_->setMaxBindingBytesForTesting(binding);
        const auto got = run(*gpu_, in);
        const bool ranOnGpu = gpu_->lastRanOnGpu();
        gpu_->setMaxBindingBytesForTesting(~0ull);
        QCOMPARE(ranOnGpu, binding > 23040);
        const double err = normalizedError(got, ref);
        QVERIFY2(err < kThreshold, qPrintable(QString("error %1 with bindings of %2 bytes").arg(err).arg(binding)));
    }
}

// Inputs and output through the staging buffer inside the kernels' submission (the path of a
// discrete GPU); lavapipe's memory is host-visible, so this is forced.
void TestAttention::vulkanStagedTransfers()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    const auto in = randomInputs({2, 48, 60, 4, 2, 128}, rng);
    gpu_->setForceStagingForTesting(true);
    const auto got = run(*gpu_, in);
    const bool ranOnGpu = gpu_->lastRanOnGpu();
    gpu_->setForceStagingForTesting(false);
    QVERIFY(ranOnGpu);
    const double err = normalizedError(got, run(cpu_, in));
    QVERIFY2(err < kThreshold, qPrintable(QString::number(err)));
}

void TestAttention::unsupportedHeadDimFallsBackToCpu()
{
    REQUIRE_GPU();
    auto rng = freshRng();
    for (int headDim : {72, 256}) {
        const auto in = randomInputs({1, 20, 20, 4, 2, headDim}, rng);
        const auto got = run(*gpu_, in);
        QVERIFY(!gpu_->lastRanOnGpu());
        QCOMPARE(got, run(cpu_, in));  // the CPU backend's own result, bit for bit
    }
}

void TestAttention::rejectsBadShapes()
{
    std::vector<float> a(4096, 1.0f), out(4096);
    const AttentionShape bad[] = {
        {1, 0, 4, 4, 2, 16},   // no queries
        {1, 8, 4, 4, 2, 16},   // fewer keys than queries
        {1, 4, 4, 4, 3, 16},   // heads not a multiple of kvHeads
        {0, 4, 4, 4, 2, 16},   // no samples
        {1, 4, 4, 4, 2, -16},  // negative head dim
    };
    std::vector<Backend*> backends{&cpu_};
    if (gpu_)
        backends.push_back(gpu_.get());
    for (Backend* b : backends) {
        for (const auto& s : bad)
            QVERIFY_THROWS_EXCEPTION(ComputeError, b->attention(s, a.data(), a.data(), a.data(), out.data()));
        QVERIFY_THROWS_EXCEPTION(ComputeError, b->attention({1, 4, 4, 4, 2, 16}, a.data(), nullptr, a.data(), out.data()));
        b->attention({1, 4, 4, 4, 2, 16}, a.data(), a.data(), a.data(), out.data());  // and a good one runs
    }
}

QTEST_APPLESS_MAIN(TestAttention)
#include "test_attention.moc"
