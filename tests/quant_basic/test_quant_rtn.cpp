// RTN and the group-wise grid it shares with GPTQ/AWQ (groupwise.hpp): scales, zeros and
// codes of 4-bit groups worked out by hand in GPTQ's conventions (asymmetric: the range always
// includes 0, zero = round(-min / scale); symmetric: zero = 2^(b-1), scale = 2 absmax / (2^b - 1));
// packing round trips through the compute format for 2, 3 and 4 bits; the error falling
// with more bits and smaller groups on Gaussian weights; per-channel and 5-8-bit codes stored in
// the formats the kernels run (groupwise_storage.hpp) with the bits per weight of what they
// are; and the RTN method at those settings on the llama fixture.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "core/quant/groupwise_storage.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/backend_linear.hpp"

#include <QtTest/QtTest>

#include <Eigen/Core>

#include <cmath>
#include <random>

using namespace qs;
using runtime::Mat;

namespace {

Mat gaussian(int n, int k, std::mt19937& rng)
{
    std::normal_distribution<float> g(0.0f, 0.02f);
    Mat w(n, k);
    for (Eigen::Index i = 0; i < w.size(); ++i)
        w.data()[i] = g(rng);
    return w;
}

double mse(const Mat& a, const Mat& b) { return double((a - b).squaredNorm()) / double(a.size()); }

} // namespace

class TestQuantRtn : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { Eigen::setNbThreads(1); } // suites run side by side on 2 cores in CI
    void asymmetricGroupByHand();
    void asymmetricRangeIncludesZero();
    void symmetricGroupByHand();
    void groupsAreIndependent();
    void packingRoundTrip_data();
    void packingRoundTrip();
    void errorFallsWithBitsAndGroupSize();
    void perChannelStoredByHand();
    void wideCodesStoredByHand();
    void methodPerChannelAndWideCodes();
};

void TestQuantRtn::asymmetricGroupByHand()
{
    // [-0.3, 0.1, 0.5, 0.2]: min -0.3, max 0.5, scale 0.8/15 = 0.05333, zero round(5.625) = 6;
    // w/scale = -5.625, 1.875, 9.375, 3.75 -> +6 and clamp: 0, 8, 15, 10.
    const float g[4] = {-0.3f, 0.1f, 0.5f, 0.2f};
    float scale, zero;
    quant::findParams(g, 4, 1, {4, false}, scale, zero);
    QVERIFY(std::fabs(scale - 0.8f / 15) < 1e-7f);
    QCOMPARE(zero, 6.0f);
    const int codes[4] = {0, 8, 15, 10};
    for (int i = 0; i < 4; ++i)
        QCOMPARE(int(quant::quantizeCode(g[i], scale, zero, 15)), codes[i]);
    QVERIFY(std::fabs(quant::dequantizeCode(0, scale, zero) - (-0.32f)) < 1e-6f);
    QVERIFY(std::fabs(quant::dequantizeCode(15, scale, zero) - 0.48f) < 1e-6f);
}

void TestQuantRtn::asymmetricRangeIncludesZero()
{
    // All positive [0.2, 0.5, 0.6, 0.9]: GPTQ widens the range to [0, 0.9]: scale 0.06, zero 0;
    // w/scale = 3.33, 8.33, 10, 15.
    const float g[4] = {0.2f, 0.5f, 0.6f, 0.9f};
    float scale, zero;
    quant::findParams(g, 4, 1, {4, false}, scale, zero);
    QVERIFY(std::fabs(scale - 0.06f) < 1e-7f);
    QCOMPARE(zero, 0.0f);
    const int codes[4] = {3, 8, 10, 15};
    for (int i = 0; i < 4; ++i)
        QCOMPARE(int(quant::quantizeCode(g[i], scale, zero, 15)), codes[i]);
    // All negative, 3 bits: [-0.7, -0.35]: range [-0.7, 0], scale 0.1, zero 7; -0.7 -> code 0.
    const float h[2] = {-0.7f, -0.35f};
    quant::findParams(h, 2, 1, {3, false}, scale, zero);
    QVERIFY(std::fabs(scale - 0.1f) < 1e-7f);
    QCOMPARE(zero, 7.0f);
    QCOMPARE(int(quant::quantizeCode(h[0], scale, zero, 7)), 0);
    // A zero group gets the range [-1, 1].
    const float z[3] = {0, 0, 0};
    quant::findParams(z, 3, 1, {4, false}, scale, zero);
    QVERIFY(std::fabs(scale - 2.0f / 15) < 1e-7f);
}

void TestQuantRtn::symmetricGroupByHand()
{
    // [-0.5, 0.12, 0.35, 0.2]: absmax 0.5, scale 2*0.5/15 = 1/15, zero 8;
    // w/scale = -7.5 (the extreme always sits half a step out), 1.8, 5.25, 3 -> 10, 13, 11.
    const float g[4] = {-0.5f, 0.12f, 0.35f, 0.2f};
    float scale, zero;
    quant::findParams(g, 4, 1, {4, true}, scale, zero);
    QVERIFY(std::fabs(scale - 1.0f / 15) < 1e-8f);
    QCOMPARE(zero, 8.0f);
    QCOMPARE(int(quant::quantizeCode(g[1], scale, zero, 15)), 10);
    QCOMPARE(int(quant::quantizeCode(g[2], scale, zero, 15)), 13);
    QCOMPARE(int(quant::quantizeCode(g[3], scale, zero, 15)), 11);
    const float q0 = quant::quantizeCode(g[0], scale, zero, 15);
    QVERIFY(q0 == 0.0f || q0 == 1.0f); // -7.5 + 8: a tie in exact arithmetic
    QVERIFY(std::fabs(quant::dequantizeCode(q0, scale, zero) - g[0]) <= scale / 2 + 1e-6f);
    // 3 bits: zero 4, scale 2*absmax/7.
    quant::findParams(g, 4, 1, {3, true}, scale, zero);
    QCOMPARE(zero, 4.0f);
    QVERIFY(std::fabs(scale - 1.0f / 7) < 1e-7f);
}

void TestQuantRtn::groupsAreIndependent()
{
    std::mt19937 rng(std::random_device{}());
    const Mat w = gaussian(3, 96, rng);
    const auto r = quant::quantizeGroupwise(w, {4, false}, 32);
    QCOMPARE(r.groups, 3);
    for (int row = 0; row < 3; ++row)
        for (int g = 0; g < 3; ++g) {
            float scale, zero;
            quant::findParams(w.row(row).data() + g * 32, 32, 1, {4, false}, scale, zero);
            QCOMPARE(r.scales[std::size_t(row * 3 + g)], scale);
            QCOMPARE(r.zeros[std::size_t(row * 3 + g)], zero);
            for (int c = 0; c < 32; ++c)
                QCOMPARE(int(r.codes[std::size_t(row * 96 + g * 32 + c)]),
                         int(quant::quantizeCode(w(row, g * 32 + c), scale, zero, 15)));
        }
}

void TestQuantRtn::packingRoundTrip_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("group");
    for (int bits : {2, 3, 4})
        for (bool sym : {false, true})
            for (int group : {32, 128}) {
                const auto name = QString("w%1 %2 g%3").arg(bits).arg(sym ? "sym" : "asym").arg(group);
                QTest::newRow(qPrintable(name)) << bits << sym << group;
            }
}

void TestQuantRtn::packingRoundTrip()
{
    QFETCH(int, bits);
    QFETCH(bool, symmetric);
    QFETCH(int, group);
    try {
        std::mt19937 rng(std::random_device{}());
        const Mat w = gaussian(5, 256, rng);
        const quant::GroupGrid grid{bits, symmetric};
        const auto r = quant::quantizeGroupwise(w, grid, group);
        const auto packed = quant::toIntGroupwise(r, 5, 256, grid);
        QCOMPARE(packed.codes.size(), std::size_t(5 * 256 * bits / 32));
        // The compute format's reference dequant equals the unpacked codes' dequant exactly.
        const Mat a = quant::dequantize(packed);
        const Mat b = quant::dequantizeGroupwise(r, 5, 256);
        QCOMPARE(double((a - b).cwiseAbs().maxCoeff()), 0.0);
        // Round to nearest: every weight within half a step (plus clamping never needed).
        for (int row = 0; row < 5; ++row)
            for (int c = 0; c < 256; ++c)
                QVERIFY(std::fabs(a(row, c) - w(row, c)) <= 0.5001f * r.scales[std::size_t(row * r.groups + c / group)]);
        // Raw codes survive packing: random codes in [0, 2^bits).
        std::vector<std::uint8_t> codes(std::size_t(3 * 64));
        std::uniform_int_distribution<int> d(0, (1 << bits) - 1);
        for (auto& c : codes)
            c = std::uint8_t(d(rng));
        quant::GroupwiseResult raw;
        raw.codes = codes;
        raw.groupSize = 32;
        raw.groups = 2;
        raw.scales.assign(6, 0.5f);
        raw.zeros.assign(6, float(1 << (bits - 1)));
        const Mat c = quant::dequantize(quant::toIntGroupwise(raw, 3, 64, grid));
        for (std::size_t i = 0; i < codes.size(); ++i)
            QCOMPARE(c(Eigen::Index(i / 64), Eigen::Index(i % 64)), (float(codes[i]) - float(1 << (bits - 1))) * 0.5f);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantRtn::errorFallsWithBitsAndGroupSize()
{
    std::mt19937 rng(std::random_device{}());
    const Mat w = gaussian(64, 512, rng);
    auto err = [&](int bits, int group) {
        const auto r = quant::quantizeGroupwise(w, {bits, false}, group);
        return mse(quant::dequantizeGroupwise(r, 64, 512), w);
    };
    const double e2 = err(2, 128), e3 = err(3, 128), e4 = err(4, 128);
    qInfo("RTN g128 asym MSE: w2 %.3g, w3 %.3g, w4 %.3g", e2, e3, e4);
    // Each bit roughly quarters the error; demand at least a factor 2.
    QVERIFY(e3 < 0.5 * e2);
    QVERIFY(e4 < 0.5 * e3);
    const double g32 = err(4, 32), g128 = err(4, 128), pc = err(4, 0);
    qInfo("RTN w4 asym MSE: g32 %.3g, g128 %.3g, per-channel %.3g", g32, g128, pc);
    QVERIFY(g32 < g128);
    QVERIFY(g128 < pc);
}

void TestQuantRtn::perChannelStoredByHand()
{
    try {
        // Two rows of 64 (K = 64: the kernels' group is 64, holding the row's one scale). Row 0
        // starts [-0.3, 0.1, 0.5, 0.2] and is 0 after: min -0.3, max 0.5, scale 0.8/15, zero 6,
        // codes 0, 8, 15, 10 and 6 for the zeros. Row 1 starts [0.2, 0.5, 0.6, 0.9]: range
        // [0, 0.9], scale 0.06, zero 0, codes 3, 8, 10, 15, then 0.
        Mat w = Mat::Zero(2, 64);
        w.row(0).head(4) << -0.3f, 0.1f, 0.5f, 0.2f;
        w.row(1).head(4) << 0.2f, 0.5f, 0.6f, 0.9f;
        const quant::GroupGrid grid{4, false};
        const auto r = quant::quantizeGroupwise(w, grid, 0);
        QCOMPARE(r.groups, 1);
        QVERIFY(std::fabs(r.scales[0] - 0.8f / 15) < 1e-7f);
        QVERIFY(std::fabs(r.scales[1] - 0.06f) < 1e-7f);
        QCOMPARE(r.zeros[0], 6.0f);
        QCOMPARE(r.zeros[1], 0.0f);
        const int head[2][4] = {{0, 8, 15, 10}, {3, 8, 10, 15}};
        for (int row = 0; row < 2; ++row) {
            for (int c = 0; c < 4; ++c)
                QCOMPARE(int(r.codes[std::size_t(row * 64 + c)]), head[row][c]);
            QCOMPARE(int(r.codes[std::size_t(row * 64 + 40)]), row == 0 ? 6 : 0);
        }
        const auto stored = quant::storeGroupwise(r, 2, 64, grid);
        QCOMPARE(stored.format, std::string("int4-channel-asym"));
        QCOMPARE(stored.storedGroupSize, 64);
        QCOMPARE(stored.bitsPerWeight, 4.0 + 64.0 / 64); // one f32 scale and zero per row
        const Mat dq = quant::dequantize(stored.matrix);
        QVERIFY(std::fabs(dq(0, 0) - (-0.32f)) < 1e-6f);
        QVERIFY(std::fabs(dq(0, 2) - 0.48f) < 1e-6f);
        QVERIFY(std::fabs(dq(1, 3) - 0.9f) < 1e-6f);
        QCOMPARE(dq(1, 40), 0.0f);

        // K = 256: the row's scale repeated over two groups of 128; 4 + 64/256 bits.
        std::mt19937 rng(std::random_device{}());
        const Mat v = gaussian(3, 256, rng);
        const auto rv = quant::quantizeGroupwise(v, grid, 0);
        const auto sv = quant::storeGroupwise(rv, 3, 256, grid);
        QCOMPARE(sv.storedGroupSize, 128);
        const auto& ig = std::get<compute::IntGroupwise>(sv.matrix);
        QCOMPARE(ig.scales.size(), std::size_t(6));
        QCOMPARE(ig.scales[4], ig.scales[5]);
        QCOMPARE(sv.bitsPerWeight, 4.25);
        QCOMPARE(double((quant::dequantize(sv.matrix) - quant::dequantizeGroupwise(rv, 3, 256)).cwiseAbs().maxCoeff()), 0.0);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantRtn::wideCodesStoredByHand()
{
    try {
        // 6 bits symmetric per channel: row [-0.63, 0.1, -0.2, 0, ...]: absmax 0.63, scale
        // 2*0.63/63 = 0.02, zero 32; 0.1 -> code 37, -0.2 -> 22: int8 values code - 32 = 5, -10.
        Mat w = Mat::Zero(1, 32);
        w.row(0).head(3) << -0.63f, 0.1f, -0.2f;
        const quant::GroupGrid six{6, true};
        const auto r = quant::quantizeGroupwise(w, six, 0);
        QVERIFY(std::fabs(r.scales[0] - 0.02f) < 1e-7f);
        QCOMPARE(r.zeros[0], 32.0f);
        const auto stored = quant::storeGroupwise(r, 1, 32, six);
        const auto& i8 = std::get<compute::Int8PerChannel>(stored.matrix);
        QCOMPARE(int(i8.q[1]), 5);
        QCOMPARE(int(i8.q[2]), -10);
        QCOMPARE(int(i8.q[5]), 0);
        QCOMPARE(stored.format, std::string("int6-channel-sym"));
        QCOMPARE(stored.bitsPerWeight, 6.0 + 32.0 / 32);
        QCOMPARE(double((quant::dequantize(stored.matrix) - quant::dequantizeGroupwise(r, 1, 32)).cwiseAbs().maxCoeff()), 0.0);

        // 7 bits asymmetric per channel still fits int8 (|code - zero| <= 127), exactly.
        std::mt19937 rng(std::random_device{}());
        const Mat v = gaussian(4, 64, rng);
        const quant::GroupGrid seven{7, false};
        const auto r7 = quant::quantizeGroupwise(v, seven, 0);
        const auto s7 = quant::storeGroupwise(r7, 4, 64, seven);
        QVERIFY(std::holds_alternative<compute::Int8PerChannel>(s7.matrix));
        QCOMPARE(double((quant::dequantize(s7.matrix) - quant::dequantizeGroupwise(r7, 4, 64)).cwiseAbs().maxCoeff()), 0.0);

        // 8 bits in groups of 32 (no kernel holds them): f16 of the dequantized values, within
        // f16 rounding (2^-11 relative), 8 + 64/32 bits as stored by the method.
        const quant::GroupGrid eight{8, false};
        const auto r8 = quant::quantizeGroupwise(v, eight, 32);
        const auto s8 = quant::storeGroupwise(r8, 4, 64, eight);
        QVERIFY(std::holds_alternative<compute::DenseHalf>(s8.matrix));
        QCOMPARE(s8.format, std::string("int8-g32-asym"));
        QCOMPARE(s8.bitsPerWeight, 10.0);
        const Mat ref8 = quant::dequantizeGroupwise(r8, 4, 64);
        QVERIFY(double((quant::dequantize(s8.matrix) - ref8).cwiseAbs().maxCoeff()) <= ref8.cwiseAbs().maxCoeff() / 2048.0);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestQuantRtn::methodPerChannelAndWideCodes()
{
    const auto dir = test::fixturesDir() / "llama";
    if (!std::filesystem::exists(dir / "config.json"))
        QSKIP("fixture missing");
    try {
        auto model = model::openModel(dir.string());
        const runtime::Transformer original(runtime::loadLlamaWeights(model));
        const std::vector<std::int32_t> tokens = {1, 17, 200, 45, 3, 99, 255, 128, 7, 64};
        const Mat ref = const_cast<runtime::Transformer&>(original).forward(tokens);
        double previous = 1e30;
        for (int bits : {3, 4, 6, 8}) {
            runtime::Transformer tf(runtime::loadLlamaWeights(model));
            quant::QuantConfig c;
            c.method = "rtn";
            c.bits = bits;
            c.groupSize = 0;
            c.symmetric = true;
            const auto run = quant::quantizeModel(tf, c, nullptr, compute::makeCpuBackend());
            QCOMPARE(run.layers.size(), std::size_t(14));
            for (const auto& r : run.layers) {
                const auto& op = *tf.weights().blocks[std::size_t(r.block)].linear(r.role);
                QCOMPARE(r.format, "int" + std::to_string(bits) + "-channel-sym");
                QCOMPARE(r.bitsPerWeight, bits + 32.0 / op.inFeatures());
                const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op);
                QVERIFY(b);
                QCOMPARE(std::holds_alternative<compute::Int8PerChannel>(b->weight()), bits > 4);
            }
            const double err = double((tf.forward(tokens) - ref).norm() / ref.norm());
            qInfo("rtn w%d per-channel sym: logits rel error %.4g", bits, err);
            QVERIFY2(err > 0 && err < previous, qPrintable(QString::number(err)));
            previous = err;
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestQuantRtn)
#include "test_quant_rtn.moc"
