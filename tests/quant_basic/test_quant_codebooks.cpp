// The codebooks against bitsandbytes' published values: the NF4 table to the last digit, the
// kernel's NF4 decision thresholds, the FP4 table, and create_dynamic_map(signed=True) (size,
// order, range, symmetry and entries as bitsandbytes prints them); the code choosers on hand
// cases, ties included.
#include "core/compute/weight_formats.hpp"
#include "core/quant/nf4_codebooks.hpp"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>

using namespace qs;

class TestQuantCodebooks : public QObject {
    Q_OBJECT
private slots:
    void nf4TableIsBitsandbytes();
    void nf4ThresholdsAreMidpoints();
    void nf4CodesByHand();
    void fp4TableAndCodes();
    void dynamicMapIsBitsandbytes();
    void dynamicCodeIsNearest();
};

void TestQuantCodebooks::nf4TableIsBitsandbytes()
{
    // bitsandbytes/functional.py get_4bit_type("nf4"), as published (QLoRA appendix E).
    const double published[16] = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                                  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                                  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                                  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0};
    for (int i = 0; i < 16; ++i) {
        QCOMPARE(compute::kNf4Levels[std::size_t(i)], float(published[i]));
        // The published digits are the float32 values printed in full: no digit is lost.
        QCOMPARE(double(compute::kNf4Levels[std::size_t(i)]), published[i]);
    }
}

void TestQuantCodebooks::nf4ThresholdsAreMidpoints()
{
    for (int i = 0; i < 15; ++i) {
        const double mid = (double(compute::kNf4Levels[std::size_t(i)]) + double(compute::kNf4Levels[std::size_t(i + 1)])) / 2;
        QVERIFY2(std::fabs(double(quant::kNf4Thresholds[std::size_t(i)]) - mid) < 1e-7, qPrintable(QString::number(i)));
    }
}

void TestQuantCodebooks::nf4CodesByHand()
{
    using quant::nf4Code;
    QCOMPARE(int(nf4Code(1.0f)), 15);
    QCOMPARE(int(nf4Code(-1.0f)), 0);
    QCOMPARE(int(nf4Code(0.0f)), 7);
    QCOMPARE(int(nf4Code(0.5f)), 12);   // 0.4407 | 0.50166 | 0.5626
    QCOMPARE(int(nf4Code(0.6f)), 13);   // 0.5626 | 0.6428 | 0.7230
    QCOMPARE(int(nf4Code(0.95f)), 15);  // above 0.8615
    QCOMPARE(int(nf4Code(-0.1f)), 6);   // -0.1379 | -0.0911
    QCOMPARE(int(nf4Code(-0.7f)), 1);   // -0.8481 | -0.6962
    QCOMPARE(int(nf4Code(0.04f)), 8);   // just above 0.03979
    QCOMPARE(int(nf4Code(-0.045f)), 7); // just above -0.04553
    // Exactly at a midpoint: the kernel's `x > t` sends the tie down; one ulp above goes up.
    for (int i = 0; i < 15; ++i) {
        const float t = quant::kNf4Thresholds[std::size_t(i)];
        QCOMPARE(int(nf4Code(t)), i);
        QCOMPARE(int(nf4Code(std::nextafter(t, 2.0f))), i + 1);
    }
    // Every level maps to itself.
    for (int i = 0; i < 16; ++i)
        QCOMPARE(int(nf4Code(compute::kNf4Levels[std::size_t(i)])), i);
}

void TestQuantCodebooks::fp4TableAndCodes()
{
    // get_4bit_type("fp4") = [0, 0.0625, 8, 12, 4, 6, 2, 3, -0, -0.0625, -8, -12, -4, -6, -2, -3] / 12
    // and the literals of the kernel's dDequantizeFP4Tree.
    const float kernel[8] = {0.00000000f, 5.208333333e-03f, 0.66666667f, 1.00000000f,
                             0.33333333f, 0.50000000f,      0.16666667f, 0.25000000f};
    for (int i = 0; i < 8; ++i) {
        QCOMPARE(quant::kFp4Levels[std::size_t(i)], kernel[i]);
        QCOMPARE(quant::kFp4Levels[std::size_t(i + 8)], -kernel[i]);
    }
    using quant::fp4Code;
    QCOMPARE(int(fp4Code(1.0f)), 0b0011);
    QCOMPARE(int(fp4Code(0.7f)), 0b0010);
    QCOMPARE(int(fp4Code(0.5f)), 0b0101);
    QCOMPARE(int(fp4Code(0.3f)), 0b0100);
    QCOMPARE(int(fp4Code(0.25f)), 0b0111);
    QCOMPARE(int(fp4Code(0.17f)), 0b0110);
    QCOMPARE(int(fp4Code(0.05f)), 0b0001);
    QCOMPARE(int(fp4Code(0.001f)), 0b0000);
    QCOMPARE(int(fp4Code(-0.5f)), 0b1101);
    QCOMPARE(int(fp4Code(-1.0f)), 0b1011);
    QCOMPARE(int(fp4Code(0.0859375f)), 0b0001); // the tie between 1/192 and 1/6 goes down
    // Every value maps to a code holding it (0 and -0 share a value).
    for (int i = 0; i < 16; ++i)
        QCOMPARE(quant::kFp4Levels[fp4Code(quant::kFp4Levels[std::size_t(i)])], quant::kFp4Levels[std::size_t(i)]);
}

void TestQuantCodebooks::dynamicMapIsBitsandbytes()
{
    const auto& map = quant::dynamicMap8Bit();
    QCOMPARE(map.size(), std::size_t(256));
    QVERIFY(std::is_sorted(map.begin(), map.end()));
    QVERIFY(std::adjacent_find(map.begin(), map.end()) == map.end()); // 256 distinct values
    QCOMPARE(map[127], 0.0f);
    QCOMPARE(map[255], 1.0f);
    for (int i = 0; i < 127; ++i)
        QCOMPARE(map[std::size_t(i)], -map[std::size_t(254 - i)]); // signed: mirrored, and 1.0 extra
    // Entries as torch prints bitsandbytes' create_dynamic_map() (agreeing in several
    // independent copies); 137, 162 and 234 are ones a float32 build without fused
    // multiply-add in linspace gets one ulp off.
    const std::pair<int, double> known[] = {{0, -0.992968738079071},   {128, 5.500000384017767e-07},
                                            {129, 3.250000190746505e-06}, {137, 0.0003812500217463821},
                                            {162, 0.019843751564621925}, {190, 0.09859374910593033},
                                            {191, 0.10703125596046448},  {234, 0.7117187976837158},
                                            {254, 0.992968738079071}};
    for (const auto& [i, v] : known)
        QVERIFY2(map[std::size_t(i)] == float(v), qPrintable(QString("entry %1: %2 != %3").arg(i).arg(double(map[std::size_t(i)]), 0, 'g', 17).arg(v, 0, 'g', 17)));
    // Decades: 1, 2, 4, ..., 64 positive values in [0.1, 1) x 10^(i-6).
    QVERIFY(map[128] > 5e-7 && map[128] < 6e-7);
    QCOMPARE(std::count_if(map.begin(), map.end(), [](float v) { return v >= 0.1f && v < 1.0f; }), 64);
}

void TestQuantCodebooks::dynamicCodeIsNearest()
{
    const auto& map = quant::dynamicMap8Bit();
    for (int i = 0; i < 256; ++i)
        QCOMPARE(int(quant::dynamicCode(map, map[std::size_t(i)])), i);
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int t = 0; t < 20000; ++t) {
        const float x = t % 2 ? u(rng) : u(rng) * 1e-3f;
        const int c = quant::dynamicCode(map, x);
        float best = INFINITY;
        for (float v : map)
            best = std::min(best, std::fabs(v - x));
        QVERIFY2(std::fabs(map[std::size_t(c)] - x) <= best * (1 + 1e-6f) + 1e-12f, qPrintable(QString::number(double(x), 'g', 9)));
    }
}

QTEST_GUILESS_MAIN(TestQuantCodebooks)
#include "test_quant_codebooks.moc"
