// quantscope-cli as a user runs it: real process, real files the test writes itself.
#include "common/test_support.hpp"

#include "core/tensor/tensor.hpp"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QtTest/QtTest>

#include <cstring>
#include <random>

namespace {

struct Result {
    int exitCode = -1;
    QString out, err;
};

Result runCli(const QStringList& args)
{
    QProcess p;
    p.start(QS_CLI_PATH, args);
    Result r;
    if (!p.waitForFinished(120000)) {
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// Minimal safetensors writer: f32 tensors only, enough for the CLI's own checks.
void writeSafetensors(const std::filesystem::path& file,
                      const std::vector<std::pair<std::string, std::pair<qs::Shape, std::vector<float>>>>& tensors)
{
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, st] : tensors) {
        const auto& [shape, values] = st;
        const auto begin = data.size();
        data.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
        header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string h = header.dump();
    std::uint64_t n = h.size();
    std::string bytes(reinterpret_cast<const char*>(&n), 8);
    qs::test::writeFile(file, bytes + h + data);
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void inspectJsonListsTensors();
    void statsMatchesValues();
    void badInputFailsWithOneLine_data();
    void badInputFailsWithOneLine();
};

void TestCli::inspectJsonListsTensors()
{
    qs::test::ScratchDir dir;
    std::mt19937 rng(std::random_device{}());
    std::normal_distribution<float> nd;
    std::vector<float> a(6 * 4), b(5);
    for (auto& x : a) x = nd(rng);
    for (auto& x : b) x = nd(rng);
    writeSafetensors(dir / "model.safetensors", {{"layer.weight", {{6, 4}, a}}, {"layer.bias", {{5}, b}}});
    const auto r = runCli({"inspect", QString::fromStdString((dir / "model.safetensors").string()), "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto j = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(j["tensors"].size(), std::size_t(2));
    QCOMPARE(j["parameters"].get<long long>(), 29LL);
    QCOMPARE(j["bytes"].get<long long>(), 29LL * 4);
    QCOMPARE(j["spec"]["supported"].get<bool>(), false);
    bool found = false;
    for (const auto& t : j["tensors"])
        if (t["name"] == "layer.weight") {
            found = true;
            QCOMPARE(t["shape"], nlohmann::json({6, 4}));
            QCOMPARE(t["dtype"].get<std::string>(), std::string("F32"));
        }
    QVERIFY(found);
}

void TestCli::statsMatchesValues()
{
    qs::test::ScratchDir dir;
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<float> ud(-2.0f, 3.0f);
    std::vector<float> a(1000);
    for (auto& x : a) x = ud(rng);
    a[10] = -7.5f; // a known absmax
    writeSafetensors(dir / "model.safetensors", {{"w", {{10, 100}, a}}});
    const auto r = runCli({"stats", QString::fromStdString((dir / "model.safetensors").string()), "--tensor", "w", "--json", "--bins", "10"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto j = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(j["count"].get<int>(), 1000);
    QCOMPARE(j["absmax"].get<double>(), 7.5);
    QCOMPARE(j["min"].get<double>(), -7.5);
    QCOMPARE(j["histogram"]["counts"].size(), std::size_t(10));
    double mean = 0;
    for (float x : a) mean += x;
    mean /= a.size();
    QVERIFY(std::abs(j["mean"].get<double>() - mean) < 1e-9);
}

void TestCli::badInputFailsWithOneLine_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("missing file") << "missing";
    QTest::newRow("garbage safetensors") << "garbage";
    QTest::newRow("truncated gguf") << "gguf";
    QTest::newRow("unknown tensor") << "tensor";
    QTest::newRow("no arguments") << "usage";
}

void TestCli::badInputFailsWithOneLine()
{
    QFETCH(QString, kind);
    qs::test::ScratchDir dir;
    QStringList args;
    QString expectInErr;
    if (kind == "missing") {
        args = {"inspect", QString::fromStdString((dir / "nope.safetensors").string())};
        expectInErr = "nope.safetensors";
    } else if (kind == "garbage") {
        qs::test::writeFile(dir / "bad.safetensors", std::string("\x10\x00\x00\x00\x00\x00\x00\x00{not json!!!!!!}", 24));
        args = {"inspect", QString::fromStdString((dir / "bad.safetensors").string())};
        expectInErr = "bad.safetensors";
    } else if (kind == "gguf") {
        qs::test::writeFile(dir / "cut.gguf", std::string("GGUF\x03\x00\x00\x00\x05", 9));
        args = {"inspect", QString::fromStdString((dir / "cut.gguf").string())};
        expectInErr = "cut.gguf";
    } else if (kind == "tensor") {
        writeSafetensors(dir / "m.safetensors", {{"w", {{2}, {1.0f, 2.0f}}}});
        args = {"stats", QString::fromStdString((dir / "m.safetensors").string()), "--tensor", "nope"};
        expectInErr = "nope";
    }
    const auto r = runCli(args);
    QVERIFY2(r.exitCode > 0, qPrintable(QString("exit %1, stderr %2").arg(r.exitCode).arg(r.err)));
    QVERIFY(!r.err.trimmed().isEmpty());
    if (!expectInErr.isEmpty()) {
        QVERIFY2(r.err.contains(expectInErr), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0); // one line
    }
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
