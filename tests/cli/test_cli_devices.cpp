// `quantscope-cli devices` and `quantscope-cli bench` as a user runs them (a real process). On a
// machine with a Vulkan device (lavapipe in CI) they list it and time a kernel; without one
// they must say so and exit non-zero, never crash.
#include <nlohmann/json.hpp>

#include <QProcess>
#include <QRegularExpression>
#include <QtTest/QtTest>

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

} // namespace

class TestCliDevices : public QObject {
    Q_OBJECT
private slots:
    void devicesJson();
    void devicesOverrideThatMatchesNothing();
    void benchQuickRow();
    void benchRejectsBadShape();
    void gptqBenchOnGpu();
};

void TestCliDevices::devicesJson()
{
    const auto r = runCli({"devices", "--json"});
    QVERIFY2(r.exitCode == 0 || r.exitCode == 1, qPrintable(r.err));
    const auto j = nlohmann::json::parse(r.out.toStdString());
    QVERIFY(j.contains("devices"));
    if (r.exitCode == 1) {  // no loader or no usable device: the reason is given
        QVERIFY(j.contains("error") && !j["error"].get<std::string>().empty());
        QSKIP("no Vulkan device here");
    }
    int selected = 0;
    for (const auto& d : j["devices"]) {
        QVERIFY(!d["name"].get<std::string>().empty());
        QVERIFY(!d["heaps"].empty());
        if (d["usable"].get<bool>())
            QVERIFY(d["subgroupSize"].get<int>() > 0);
        for (const char* key : {"shaderFloat16", "shaderInt8", "storage8Bit", "storage16Bit", "nvCooperativeMatrix",
                                "khrCooperativeMatrix", "maxStorageBufferRange"})
            QVERIFY2(d.contains(key), key);
        selected += d["selected"].get<bool>() ? 1 : 0;
    }
    QCOMPARE(selected, 1);
    // The text form says which device is used.
    const auto t = runCli({"devices"});
    QCOMPARE(t.exitCode, 0);
    QVERIFY2(t.out.contains("used: ["), qPrintable(t.out));
}

void TestCliDevices::devicesOverrideThatMatchesNothing()
{
    const auto r = runCli({"devices", "--device", "no-such-device-xyz"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.out.contains("no-such-device-xyz"), qPrintable(r.out));
}

void TestCliDevices::benchQuickRow()
{
    const auto r = runCli({"bench", "--quick", "--only-dequant", "--formats", "int8", "--batches", "1"});
    if (r.exitCode == 1 && r.out.contains("no Vulkan device"))
        QSKIP("no Vulkan device here");
    QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
    // | dequant-gemm | int8 | gemv | N=256 K=512 M=1 | ... | max norm. err | checked |
    static const QRegularExpression row(R"(\| dequant-gemm \| int8 \| gemv \| N=256 K=512 M=1 \|.*\| ([0-9.e+-]+) \| 1 rows of Y \|)");
    const auto m = row.match(r.out);
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    const double err = m.captured(1).toDouble();
    QVERIFY2(err < 1e-5, qPrintable(m.captured(1)));  // f32 GEMV against the CPU twin
    QVERIFY(r.out.contains("Copy ceiling"));
}

void TestCliDevices::benchRejectsBadShape()
{
    const auto r = runCli({"bench", "--quick", "--shapes", "12by4"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("bad shape '12by4'"), qPrintable(r.err));
}

// gptq-bench --gpu: the products run on the device (one per panel but the last, one per run but
// the first), the split is reported, and the loss is the CPU solve's within 2%.
void TestCliDevices::gptqBenchOnGpu()
{
    const QStringList common{"gptq-bench", "--shapes", "96x640", "--rows", "256", "--json"};
    const auto gpu = runCli(common + QStringList{"--gpu"});
    QVERIFY2(gpu.exitCode == 0, qPrintable(gpu.out + gpu.err));
    const auto j = nlohmann::json::parse(gpu.out.toStdString());
    if (j["products_on"].get<std::string>() == "cpu")
        QSKIP("no Vulkan device here");
    QVERIFY2(j["products_on"].get<std::string>().rfind("vulkan", 0) == 0, qPrintable(gpu.out));
    QCOMPARE(j["device_run_width"].get<int>(), 128);
    const auto& row = j["rows"][0];
    QCOMPARE(row["factor_device"]["calls"].get<int>(), 2);  // panels of 256: 640 = 128 + 256 + 256
    QCOMPARE(row["sweep_device"]["calls"].get<int>(), 4);   // runs of 128: 5
    QVERIFY(row["sweep_device"]["products"].get<double>() > 0);
    const auto cpu = runCli(common);
    QVERIFY2(cpu.exitCode == 0, qPrintable(cpu.out + cpu.err));
    const auto jc = nlohmann::json::parse(cpu.out.toStdString());
    QCOMPARE(jc["products_on"].get<std::string>(), std::string("cpu"));
    QVERIFY(!jc["rows"][0].contains("sweep_device"));
    const double lg = row["loss"].get<double>(), lc = jc["rows"][0]["loss"].get<double>();
    QVERIFY2(std::abs(lg - lc) < 0.02 * lc, qPrintable(QString("loss %1 on the GPU, %2 on the CPU").arg(lg).arg(lc)));
    // Double precision has no GPU path: a clear error, not a silent CPU run.
    const auto dbl = runCli(common + QStringList{"--gpu", "--double"});
    QVERIFY(dbl.exitCode != 0);
    QVERIFY2(dbl.err.contains("single precision"), qPrintable(dbl.err));
}

QTEST_GUILESS_MAIN(TestCliDevices)
#include "test_cli_devices.moc"
