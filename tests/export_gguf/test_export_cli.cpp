// `quantscope-cli export`: a plain conversion and an RTN g32 export of a fixture to GGUF with
// --json (bytes equal the file's size, every tensor verified), bad options and targets end
// non-zero with a one-line error naming what is wrong, and nothing is left behind.
#include "common/test_support.hpp"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run cli(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(QS_CLI_EXE), args);
    p.waitForFinished(60000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

QString fixture(const char* name)
{
    return QString::fromStdString((qs::test::fixturesDir() / name).string());
}

} // namespace

class TestExportCli : public QObject {
    Q_OBJECT

private slots:
    void plainAndRtnToGguf()
    {
        qs::test::ScratchDir dir;
        const auto plain = dir / "plain.gguf";
        Run r = cli({QStringLiteral("export"), fixture("llama"), QStringLiteral("--type"), QStringLiteral("Q8_0"),
                     QStringLiteral("--out"), QString::fromStdString(plain.string()), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(qint64(j.value(QStringLiteral("bytes")).toDouble()), qint64(std::filesystem::file_size(plain)));
        QCOMPARE(j.value(QStringLiteral("tensors_verified")).toInt(), j.value(QStringLiteral("tensors")).toInt());
        QVERIFY(j.value(QStringLiteral("tensors")).toInt() > 0);

        const auto rtn = dir / "rtn.gguf";
        r = cli({QStringLiteral("export"), fixture("llama"), QStringLiteral("--method"), QStringLiteral("rtn"),
                 QStringLiteral("--group"), QStringLiteral("32"), QStringLiteral("--sym"), QStringLiteral("--out"),
                 QString::fromStdString(rtn.string()), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        j = QJsonDocument::fromJson(r.out).object();
        QVERIFY(j.value(QStringLiteral("method")).toString().startsWith(QStringLiteral("rtn w4 g32 sym")));
        bool lossless = false; // the fixture has no tokenizer: that is a note too
        for (const auto& n : j.value(QStringLiteral("notes")).toArray())
            lossless = lossless || n.toString().contains(QStringLiteral("14 linears written as Q4_0/Q4_1"));
        QVERIFY2(lossless, r.out.constData());
        QCOMPARE(std::size_t(std::distance(std::filesystem::directory_iterator(dir.path()), {})), std::size_t(2));
    }

    void badInputEndsNonZero_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("type") << QStringList{QStringLiteral("--type"), QStringLiteral("Q3_X")} << "unknown GGUF type \"Q3_X\"";
        QTest::newRow("folder") << QStringList{QStringLiteral("--out"), QStringLiteral("/nonexistent-qs/x.gguf")}
                                << "/nonexistent-qs/x.gguf: the folder /nonexistent-qs does not exist";
    }
    void badInputEndsNonZero()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        qs::test::ScratchDir dir;
        QStringList all{QStringLiteral("export"), fixture("llama")};
        all += args;
        if (!args.contains(QStringLiteral("--out")))
            all += {QStringLiteral("--out"), QString::fromStdString((dir / "x.gguf").string())};
        const Run r = cli(all);
        QVERIFY(r.code != 0);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(std::size_t(std::distance(std::filesystem::directory_iterator(dir.path()), {})), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestExportCli)
#include "test_export_cli.moc"
