// The quantscope executable end to end (offscreen): MODEL and --screenshot produce a picture
// of the loaded window and exit 0; a missing model exits 1 with no picture; bad usage exits 2.
#include "common/test_support.hpp"

#include <QColor>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QtTest/QtTest>

namespace {

struct Run {
    int exitCode = -1;
    QString output;
};

Run runGui(const QStringList& args, const std::filesystem::path& home)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // Settings and the log file go to a scratch home, never the user's.
    env.insert(QStringLiteral("HOME"), QString::fromStdString(home.string()));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), QString::fromStdString((home / "config").string()));
    env.insert(QStringLiteral("XDG_DATA_HOME"), QString::fromStdString((home / "data").string()));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(QS_GUI_EXE), args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        r.output = QStringLiteral("timed out");
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.output = QString::fromLocal8Bit(p.readAll());
    return r;
}

} // namespace

class TestGuiMain : public QObject {
    Q_OBJECT
private slots:
    void screenshotOfLoadedModel()
    {
        const auto fixture = qs::test::fixturesDir() / "qwen3";
        if (!std::filesystem::exists(fixture / "config.json"))
            QSKIP("tests/fixtures/qwen3 missing");
        qs::test::ScratchDir scratch;
        const QString png = QString::fromStdString((scratch / "shot.png").string());
        const Run r = runGui({QString::fromStdString(fixture.string()), QStringLiteral("--select"),
                              QStringLiteral("model.layers.1.self_attn.k_norm.weight"), QStringLiteral("--screenshot"), png},
                             scratch.path());
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        QVERIFY2(r.output.contains(QStringLiteral("opened")), qPrintable(r.output));
        QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(1280, 800));
        // Something was drawn: a blank grab would have one or two colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 10, qPrintable(QString::number(colours.size())));
        // The log file was written in the data folder.
        QVERIFY(std::filesystem::exists(scratch / "data" / "QuantScope" / "QuantScope" / "logs" / "quantscope.log"));
    }

    void missingModelExitsOne()
    {
        qs::test::ScratchDir scratch;
        const auto png = scratch / "shot.png";
        const Run r = runGui({QString::fromStdString((scratch / "nope").string()), QStringLiteral("--screenshot"),
                              QString::fromStdString(png.string())},
                             scratch.path());
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.output.contains(QStringLiteral("cannot open model")), qPrintable(r.output));
        QVERIFY(!std::filesystem::exists(png));
    }

    void twoModelsIsAUsageError()
    {
        qs::test::ScratchDir scratch;
        const Run r = runGui({QStringLiteral("a"), QStringLiteral("b")}, scratch.path());
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.output.contains(QStringLiteral("at most one MODEL")));
    }
};

QTEST_GUILESS_MAIN(TestGuiMain)
#include "test_gui_main.moc"
