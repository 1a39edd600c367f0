// computeStats against a straightforward double-precision recomputation and against known
// properties of distributions (normal kurtosis 3, uniform 1.8).
#include "core/tensor/stats.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

class TestStats : public QObject {
    Q_OBJECT
private slots:
    void normalDistribution();
    void uniformDistribution();
    void plantedOutliersAndNonFinite();
    void histogramCoversEveryValue();
};

void TestStats::normalDistribution()
{
    std::mt19937 rng(std::random_device{}());
    std::normal_distribution<float> nd(0.25f, 2.0f);
    std::vector<float> v(400000);
    for (auto& x : v)
        x = nd(rng);
    const auto s = qs::computeStats(v, 32);
    QCOMPARE(s.count, std::uint64_t(v.size()));
    QVERIFY(std::abs(s.mean - 0.25) < 0.02);
    QVERIFY(std::abs(s.std - 2.0) / 2.0 < 0.01);
    QVERIFY2(std::abs(s.kurtosis - 3.0) < 0.1, qPrintable(QString::number(s.kurtosis)));

    // Independent recomputation of the moments in double.
    double sum = 0, mn = 1e30, mx = -1e30;
    for (float x : v) {
        sum += x;
        mn = std::min(mn, double(x));
        mx = std::max(mx, double(x));
    }
    const double mean = sum / v.size();
    double m2 = 0, m4 = 0;
    for (float x : v) {
        m2 += (x - mean) * (x - mean);
        m4 += std::pow(x - mean, 4);
    }
    m2 /= v.size();
    m4 /= v.size();
    QVERIFY(std::abs(s.mean - mean) < 1e-9);
    QVERIFY(std::abs(s.std - std::sqrt(m2)) / std::sqrt(m2) < 1e-9);
    QVERIFY(std::abs(s.kurtosis - m4 / (m2 * m2)) < 1e-9);
    QCOMPARE(s.min, mn);
    QCOMPARE(s.max, mx);
    QCOMPARE(s.absmax, std::max(std::abs(mn), std::abs(mx)));
}

void TestStats::uniformDistribution()
{
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> ud(-3.0f, 1.0f);
    std::vector<float> v(300000);
    for (auto& x : v)
        x = ud(rng);
    const auto s = qs::computeStats(v);
    QVERIFY2(std::abs(s.kurtosis - 1.8) < 0.05, qPrintable(QString::number(s.kurtosis)));
    QCOMPARE(s.beyond6Sigma, std::uint64_t(0));
    QVERIFY(s.absmax <= 3.0 && s.absmax > 2.99);
}

void TestStats::plantedOutliersAndNonFinite()
{
    std::mt19937 rng(std::random_device{}());
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> v(100000);
    for (auto& x : v)
        x = std::clamp(nd(rng), -4.0f, 4.0f);
    v[17] = 60.0f;
    v[1234] = -75.0f;
    v[999] = 55.0f;
    v[5] = std::nanf("");
    v[6] = INFINITY;
    const auto s = qs::computeStats(v);
    QCOMPARE(s.nonFinite, std::uint64_t(2));
    QCOMPARE(s.count, std::uint64_t(v.size() - 2));
    QCOMPARE(s.beyond6Sigma, std::uint64_t(3));
    QCOMPARE(s.absmax, 75.0);
    QVERIFY(s.kurtosis > 10.0); // heavy tails show up
}

void TestStats::histogramCoversEveryValue()
{
    std::mt19937 rng(std::random_device{}());
    std::exponential_distribution<float> ed(1.5f);
    std::vector<float> v(50001);
    for (auto& x : v)
        x = ed(rng);
    const auto s = qs::computeStats(v, 100);
    QCOMPARE(s.histogram.counts.size(), std::size_t(100));
    QCOMPARE(s.histogram.edges.size(), std::size_t(101));
    std::uint64_t total = 0;
    for (auto c : s.histogram.counts)
        total += c;
    QCOMPARE(total, s.count);
    QCOMPARE(s.histogram.edges.front(), s.min);
    QCOMPARE(s.histogram.edges.back(), s.max);
    // Exponential: the first bin holds the most values, the last very few.
    QVERIFY(s.histogram.counts.front() > s.histogram.counts[50]);
    // Bin counts agree with a direct count for one interior bin.
    const double lo = s.histogram.edges[10], hi = s.histogram.edges[11];
    std::uint64_t direct = 0;
    for (float x : v)
        if (x >= lo && x < hi)
            ++direct;
    QVERIFY(std::llabs(static_cast<long long>(direct) - static_cast<long long>(s.histogram.counts[10])) <= 2);
}

QTEST_APPLESS_MAIN(TestStats)
#include "test_stats.moc"
