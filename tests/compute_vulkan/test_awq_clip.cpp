// Backend::awqClipErrors on Vulkan (awq_clip.comp) against the CPU twin (awqClipErrorsCpu) on
// fresh random weights (a few outlier weights) and inputs (a few outlier channels): 3 and 4 bits,
// symmetric and asymmetric, groups of 32, 64 and 128. The quantization must round exactly as the
// CPU does (a flipped code moves a group's error by about 1e-2 relative), so:
//  - orgMax equal bit for bit;
//  - errors: normalized error below 1e-5 overall (f32 sums in another order: ~1e-7 measured)
//    and every entry within 1e-3 relative of the CPU's;
//  - the chosen shrink (searchAwqClip's rule: the first lowest error) the same in >= 99% of
//    (row, group).
// The same with the device's quotients skewed by +-3 ulp (a GPU whose division is inexact: the
// kernel must still settle the rounding exactly), with bindings small enough that the rows are
// split over dispatches, the CPU fallback for group sizes the kernel does not take, the quant
// API's searchAwqClip with the backend, and bad arguments throwing.
#include "compute_cpu/naive_reference.hpp"
#include "core/compute/cpu/cpu_backend.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"
#include "core/quant/awq_clip.hpp"

#include <QtTest/QtTest>

#include <random>

using namespace qs::compute;
using qs::test::normalizedError;

namespace {

constexpr double kNormalizedThreshold = 1e-5;
constexpr double kEntryThreshold = 1e-3;
constexpr double kMinPickAgreement = 0.99;

struct ClipInputs {
    int n = 0, k = 0, gs = 0, tokens = 0;
    std::vector<float> w, x, gram, shrinks;
};

// W ~ N(0, 0.02) with ~0.5% of weights 10x larger; X ~ N(0, 1) with 3 channels 20x larger;
// the Gram blocks X_g^T X_g / T in double, stored f32.
ClipInputs randomInputs(int n, int k, int gs, int tokens, std::mt19937& rng)
{
    ClipInputs in{n, k, gs, tokens, {}, {}, {}, {}};
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    in.w.resize(std::size_t(n) * std::size_t(k));
    for (auto& v : in.w)
        v = 0.02f * g(rng) * (u(rng) < 0.005f ? 10.0f : 1.0f);
    in.x.resize(std::size_t(tokens) * std::size_t(k));
    for (auto& v : in.x)
        v = g(rng);
    std::uniform_int_distribution<int> col(0, k - 1);
    for (int o = 0; o < 3; ++o) {
        const int c = col(rng);
        for (int t = 0; t < tokens; ++t)
            in.x[std::size_t(t) * std::size_t(k) + std::size_t(c)] *= 20.0f;
    }
    const int groups = k / gs;
    in.gram.resize(std::size_t(groups) * std::size_t(gs) * std::size_t(gs));
    for (int grp = 0; grp < groups; ++grp)
        for (int i = 0; i < gs; ++i)
            for (int j = 0; j < gs; ++j) {
                double s = 0;
                for (int t = 0; t < tokens; ++t)
                    s += double(in.x[std::size_t(t) * std::size_t(k) + std::size_t(grp * gs + i)]) *
                         double(in.x[std::size_t(t) * std::size_t(k) + std::size_t(grp * gs + j)]);
                in.gram[(std::size_t(grp) * std::size_t(gs) + std::size_t(i)) * std::size_t(gs) + std::size_t(j)] =
                    float(s / tokens);
            }
    for (int i = 0; i < 10; ++i) // AutoAWQ's grid: 20 points, shrinks down to 0.55
        in.shrinks.push_back(1.0f - float(i) / 20.0f);
    return in;
}

AwqClipProblem problemOf(const ClipInputs& in, int bits, bool symmetric)
{
    AwqClipProblem p;
    p.w = in.w.data();
    p.n = in.n;
    p.k = in.k;
    p.groupSize = in.gs;
    p.gram = in.gram.data();
    p.bits = bits;
    p.symmetric = symmetric;
    p.shrinks = in.shrinks;
    return p;
}

struct ClipOutput {
    std::vector<float> errors, orgMax;
};

ClipOutput runOn(Backend& b, const AwqClipProblem& p)
{
    ClipOutput o;
    o.errors.resize(p.shrinks.size() * std::size_t(p.n) * std::size_t(p.groups()));
    o.orgMax.resize(std::size_t(p.n) * std::size_t(p.groups()));
    b.awqClipErrors(p, o.errors.data(), o.orgMax.data());
    return o;
}

// searchAwqClip's pick: the first step with the lowest error.
std::vector<int> picks(const ClipOutput& o, std::size_t steps, std::size_t cells)
{
    std::vector<int> best(cells, 0);
    for (std::size_t c = 0; c < cells; ++c)
        for (std::size_t i = 1; i < steps; ++i)
            if (o.errors[i * cells + c] < o.errors[std::size_t(best[c]) * cells + c])
                best[c] = int(i);
    return best;
}

struct Comparison {
    double normalized = 0, worstEntry = 0, agreement = 0;
    bool orgMaxEqual = false;
};

Comparison compare(const ClipOutput& gpu, const ClipOutput& cpu, std::size_t steps)
{
    Comparison c;
    c.normalized = normalizedError(gpu.errors, cpu.errors);
    for (std::size_t i = 0; i < cpu.errors.size(); ++i)
        c.worstEntry = std::max(c.worstEntry, std::abs(double(gpu.errors[i]) - double(cpu.errors[i])) /
                                                  std::max(1e-30, std::abs(double(cpu.errors[i]))));
    c.orgMaxEqual = gpu.orgMax == cpu.orgMax;
    const std::size_t cells = cpu.orgMax.size();
    const auto a = picks(gpu, steps, cells), b = picks(cpu, steps, cells);
    std::size_t same = 0;
    for (std::size_t i = 0; i < cells; ++i)
        same += a[i] == b[i] ? 1 : 0;
    c.agreement = double(same) / double(cells);
    return c;
}

} // namespace

class TestAwqClip : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesCpu_data();
    void matchesCpu();
    void splitBindings();
    void otherGroupSizesFallBack();
    void searchWithBackend();
    void badArgumentsThrow();

private:
    std::unique_ptr<VulkanBackend> gpu_;
    CpuBackend cpu_;
};

void TestAwqClip::initTestCase()
{
    std::string why;
    gpu_ = VulkanBackend::create(&why);
    if (!gpu_)
        QSKIP(qPrintable(QString::fromStdString("no Vulkan device: " + why)));
}

void TestAwqClip::matchesCpu_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("groupSize");
    QTest::addColumn<int>("skew");
    for (int bits : {3, 4})
        for (bool sym : {false, true})
            for (int gs : {32, 64, 128})
                QTest::addRow("%d-bit %s g%d", bits, sym ? "sym" : "asym", gs) << bits << sym << gs << 0;
    for (int skew : {3, -3})
        for (bool sym : {false, true})
            QTest::addRow("4-bit %s g128 quotients %+d ulp", sym ? "sym" : "asym", skew) << 4 << sym << 128 << skew;
}

void TestAwqClip::matchesCpu()
{
    QFETCH(int, bits);
    QFETCH(bool, symmetric);
    QFETCH(int, groupSize);
    QFETCH(int, skew);
    std::mt19937 rng(std::random_device{}());
    // 75 rows: a partial workgroup at the end; 3 groups; more tokens than the group size.
    const ClipInputs in = randomInputs(75, 3 * groupSize, groupSize, 160, rng);
    const AwqClipProblem p = problemOf(in, bits, symmetric);
    gpu_->setAwqClipQuotientSkewForTesting(skew);
    const ClipOutput g = runOn(*gpu_, p);
    gpu_->setAwqClipQuotientSkewForTesting(0);
    QVERIFY(gpu_->lastRanOnGpu());
    const ClipOutput c = runOn(cpu_, p);
    const Comparison r = compare(g, c, in.shrinks.size());
    qInfo("normalized %.2e, worst entry %.2e, picks agree %.4f (%zu cells), gpu %.2f ms", r.normalized, r.worstEntry,
          r.agreement, c.orgMax.size(), gpu_->lastKernelMs());
    QVERIFY(r.orgMaxEqual);
    QVERIFY2(r.normalized < kNormalizedThreshold, qPrintable(QString::number(r.normalized)));
    QVERIFY2(r.worstEntry < kEntryThreshold, qPrintable(QString::number(r.worstEntry)));
    QVERIFY2(r.agreement >= kMinPickAgreement, qPrintable(QString::number(r.agreement)));
}

void TestAwqClip::splitBindings()
{
    std::mt19937 rng(std::random_device{}());
    // 1 KiB rows: 192 per 192 KiB binding, 3 dispatches; the Gram blocks (128 KiB) and the
    // errors (40 KB) still fit one binding.
    const ClipInputs in = randomInputs(500, 256, 128, 160, rng);
    const AwqClipProblem p = problemOf(in, 4, false);
    gpu_->setMaxBindingBytesForTesting(192 << 10);
    const ClipOutput g = runOn(*gpu_, p);
    gpu_->setMaxBindingBytesForTesting(std::uint64_t(1) << 40);
    QVERIFY(gpu_->lastRanOnGpu());
    const ClipOutput c = runOn(cpu_, p);
    const Comparison r = compare(g, c, in.shrinks.size());
    qInfo("split: normalized %.2e, worst entry %.2e, picks agree %.4f", r.normalized, r.worstEntry, r.agreement);
    QVERIFY(r.orgMaxEqual);
    QVERIFY(r.normalized < kNormalizedThreshold);
    QVERIFY(r.worstEntry < kEntryThreshold);
    QVERIFY(r.agreement >= kMinPickAgreement);
}

void TestAwqClip::otherGroupSizesFallBack()
{
    std::mt19937 rng(std::random_device{}());
    for (int gs : {48, 256}) {
        const ClipInputs in = randomInputs(20, 2 * gs, gs, 64, rng);
        const AwqClipProblem p = problemOf(in, 4, true);
        const ClipOutput g = runOn(*gpu_, p);
        QVERIFY(!gpu_->lastRanOnGpu());
        const ClipOutput c = runOn(cpu_, p);
        QVERIFY(g.errors == c.errors);
        QVERIFY(g.orgMax == c.orgMax);
    }
}

void TestAwqClip::searchWithBackend()
{
    using namespace qs::quant;
    std::mt19937 rng(std::random_device{}());
    const ClipInputs in = randomInputs(96, 256, 128, 192, rng);
    const qs::runtime::Mat w = Eigen::Map<const qs::runtime::Mat>(in.w.data(), in.n, in.k);
    const qs::runtime::Mat x = Eigen::Map<const qs::runtime::Mat>(in.x.data(), in.tokens, in.k);
    const GroupGrid grid{4, false};
    const auto onGpu = searchAwqClip(w, x, grid, 128, 20, 0.5f, AwqClipForm::Gram, gpu_.get());
    QVERIFY(gpu_->lastRanOnGpu());
    const auto onCpu = searchAwqClip(w, x, grid, 128, 20, 0.5f, AwqClipForm::Gram, nullptr);
    const auto cpuBackend = searchAwqClip(w, x, grid, 128, 20, 0.5f, AwqClipForm::Gram, &cpu_);
    QVERIFY(cpuBackend.maxVal == onCpu.maxVal); // a CPU backend runs the same twin
    const double same = double((onGpu.maxVal.array() == onCpu.maxVal.array()).count()) / double(onCpu.maxVal.size());
    qInfo("searchAwqClip: clamps agree %.4f, clipped error %.6e (gpu) %.6e (cpu)", same, onGpu.errorClipped,
          onCpu.errorClipped);
    QVERIFY(same >= kMinPickAgreement);
    QVERIFY(std::abs(onGpu.errorUnclipped - onCpu.errorUnclipped) <= 1e-5 * onCpu.errorUnclipped);
}

void TestAwqClip::badArgumentsThrow()
{
    std::mt19937 rng(std::random_device{}());
    const ClipInputs in = randomInputs(8, 64, 32, 40, rng);
    std::vector<float> e(in.shrinks.size() * 16), m(16);
    auto expectThrow = [&](AwqClipProblem p) {
        QVERIFY_THROWS_EXCEPTION(ComputeError, gpu_->awqClipErrors(p, e.data(), m.data()));
        QVERIFY_THROWS_EXCEPTION(ComputeError, cpu_.awqClipErrors(p, e.data(), m.data()));
    };
    AwqClipProblem p = problemOf(in, 4, false);
    p.w = nullptr;
    expectThrow(p);
    p = problemOf(in, 4, false);
    p.groupSize = 24; // does not divide 64
    expectThrow(p);
    p = problemOf(in, 9, false);
    expectThrow(p);
    p = problemOf(in, 4, false);
    const std::vector<float> zeroShrink{1.0f, 0.0f};
    p.shrinks = zeroShrink;
    expectThrow(p);
    p = problemOf(in, 4, false);
    p.shrinks = {};
    expectThrow(p);
    p = problemOf(in, 4, false);
    QVERIFY_THROWS_EXCEPTION(ComputeError, gpu_->awqClipErrors(p, nullptr, m.data()));
}

QTEST_GUILESS_MAIN(TestAwqClip)
#include "test_awq_clip.moc"
