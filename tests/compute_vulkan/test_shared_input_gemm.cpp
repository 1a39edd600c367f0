// Several products of one input (a block's q/k/v, gate/up) through dequantGemmSharedInput: on
// Vulkan the input is uploaded once and the later products read it from the device. Each output
// must equal the CPU backend's product (normalized error < 1e-5, fresh random inputs and
// weights of mixed formats and widths; 2e-3 on devices that are not CPUs, where the int4 GEMV
// and the cooperative-matrix GEMM round to f16: 2e-4..5e-4 measured on the H100) on the GEMV and
// the portable paths, through the staging
// buffer and without it, with a weight that falls back to the CPU in the middle, and the call
// must leave no stale input behind for the next one.
#include "core/compute/random_weights.hpp"
#include "core/compute/shared_input_gemm.hpp"
#include "core/compute/vulkan/vulkan_backend.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace qs::compute;

namespace {

double normalizedError(const std::vector<float>& a, const std::vector<float>& ref)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
        den += double(ref[i]) * ref[i];
    }
    return std::isfinite(num) ? std::sqrt(num / std::max(den, 1e-30)) : 1e30;
}

} // namespace

class TestSharedInputGemm : public QObject {
    Q_OBJECT
private slots:
    void matchesSeparateProducts_data();
    void matchesSeparateProducts();
};

void TestSharedInputGemm::matchesSeparateProducts_data()
{
    QTest::addColumn<int>("m");
    QTest::addColumn<bool>("staging");
    QTest::addColumn<bool>("cpuInTheMiddle");
    for (int m : {3, 70})
        for (bool staging : {false, true})
            for (bool mid : {false, true})
                QTest::newRow(qPrintable(QString("M=%1%2%3").arg(m).arg(staging ? ", staged" : "").arg(mid ? ", cpu weight" : "")))
                    << m << staging << mid;
}

void TestSharedInputGemm::matchesSeparateProducts()
{
    QFETCH(int, m);
    QFETCH(bool, staging);
    QFETCH(bool, cpuInTheMiddle);
    std::string why;
    auto gpu = VulkanBackend::create(&why);
    if (!gpu)
        QSKIP(qPrintable(QString::fromStdString("no Vulkan device: " + why)));
    auto cpu = makeCpuBackend();
    const double tol = gpu->device().type == "cpu" ? 1e-5 : 2e-3;
    gpu->setForceStagingForTesting(staging);
    try {
        std::mt19937 rng(std::random_device{}());
        const int k = 256;
        const std::vector<std::pair<std::string, int>> shapes = {{"f16", 72}, {"int4-g128-asym", 40}, {"int8", 33}};
        std::vector<std::shared_ptr<const WeightMatrix>> host;
        std::vector<std::shared_ptr<PreparedWeights>> prepared;
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            host.push_back(std::make_shared<const WeightMatrix>(randomWeights(shapes[i].first, shapes[i].second, k, rng)));
            // The middle one prepared by the CPU backend: the GPU cannot run it and falls back.
            prepared.push_back(cpuInTheMiddle && i == 1 ? cpu->prepare(host.back()) : gpu->prepare(host.back()));
        }
        for (int call = 0; call < 2; ++call) {  // a second call with a new input of the same size
            const auto x = randomNormal(std::size_t(m) * k, rng);
            std::vector<std::vector<float>> ys;
            std::vector<const PreparedWeights*> ws;
            std::vector<float*> outs;
            for (std::size_t i = 0; i < shapes.size(); ++i) {
                ys.emplace_back(std::size_t(m) * shapes[i].second, NAN);
                ws.push_back(prepared[i].get());
            }
            for (auto& y : ys)
                outs.push_back(y.data());
            dequantGemmSharedInput(*gpu, x.data(), m, ws, outs);
            for (std::size_t i = 0; i < shapes.size(); ++i) {
                std::vector<float> ref(ys[i].size(), NAN);
                cpu->dequantGemm(x.data(), m, *cpu->prepare(host[i]), ref.data());
                const double err = normalizedError(ys[i], ref);
                QVERIFY2(err < tol, qPrintable(QString("call %1, %2: normalized error %3")
                                                    .arg(call).arg(QString::fromStdString(shapes[i].first)).arg(err)));
            }
        }
        // Mismatched lists are refused.
        std::vector<float> y(std::size_t(m) * 72);
        const PreparedWeights* one[1] = {prepared[0].get()};
        float* none[1] = {nullptr};
        const auto x = randomNormal(std::size_t(m) * k, rng);
        QVERIFY_THROWS_EXCEPTION(ComputeError, dequantGemmSharedInput(*gpu, x.data(), m, one, std::span<float* const>()));
        QVERIFY_THROWS_EXCEPTION(ComputeError, dequantGemmSharedInput(*gpu, x.data(), m, one, none));
    } catch (const std::exception& e) {
        gpu->setForceStagingForTesting(false);
        QFAIL(e.what());
    }
    gpu->setForceStagingForTesting(false);
}

QTEST_APPLESS_MAIN(TestSharedInputGemm)
#include "test_shared_input_gemm.moc"
