// QSettings in a temporary folder: the run panel's and the playground's settings, the window
// geometry, its dock layout and the splitter come back in a new MainWindow after the first one
// closed; stored values that are out of range or unknown fall back to the defaults. The status
// bar's compute device is probed on a worker and names a GPU or "CPU (Eigen)".
#include "ui/compare/run_panel.hpp"
#include "ui/playground/playground_view.hpp"
#include "ui/settings/run_settings_store.hpp"
#include "ui/status/compute_status.hpp"
#include "ui/windows/analysis_tabs.hpp"
#include "ui/windows/main_window.hpp"

#include <QCheckBox>
#include <QDockWidget>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

using qs::ui::CompareSettings;
using qs::ui::MainWindow;
using qs::ui::PlaygroundSettings;

class TestSettings : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir_.path());
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("QuantScopeSettingsTest"));
        QSettings().clear();
    }

    void restoredAfterRestart()
    {
        CompareSettings run;
        run.methods = {"gptq", "nf4"};
        run.bits = 3;
        run.groupSize = 64;
        run.alpha = 0.8f;
        run.damp = 0.05f;
        run.actOrder = true;
        run.calibrationPreset = "standard";
        run.awqClip = false;
        run.calibrationText = "/tmp/my calibration.txt";
        run.evalWindows = 5;
        run.evalContext = 128;
        PlaygroundSettings play;
        play.prompt = "Remember me";
        play.method = "awq";
        play.bits = 4;
        play.groupSize = 32;
        play.maxTokens = 17;
        play.temperature = 0.7f;
        play.topP = 0.85f;
        play.seed = 42;
        QByteArray splitterState;
        {
            MainWindow w;
            w.show();
            w.resize(1111, 777);
            auto* dock = w.findChild<QDockWidget*>(QStringLiteral("logDock"));
            QVERIFY(dock);
            w.addDockWidget(Qt::RightDockWidgetArea, dock);
            w.analysisTabs()->runPanel()->setSettings(run);
            w.playground()->setSettings(play);
            auto* splitter = w.findChild<QSplitter*>(QStringLiteral("mainSplitter"));
            splitter->setSizes({300, 811});
            QCoreApplication::processEvents();
            splitterState = splitter->saveState();
            w.close(); // saves
        }
        QVERIFY(QFile::exists(QSettings().fileName()));
        QVERIFY2(QSettings().fileName().startsWith(dir_.path()), qPrintable(QSettings().fileName()));

        MainWindow w2;
        w2.show();
        QCoreApplication::processEvents();
        QCOMPARE(w2.size(), QSize(1111, 777));
        auto* dock = w2.findChild<QDockWidget*>(QStringLiteral("logDock"));
        QCOMPARE(w2.dockWidgetArea(dock), Qt::RightDockWidgetArea);
        QCOMPARE(w2.findChild<QSplitter*>(QStringLiteral("mainSplitter"))->saveState(), splitterState);
        const CompareSettings r = w2.analysisTabs()->runPanel()->settings();
        QCOMPARE(r.methods, run.methods);
        QCOMPARE(r.bits, 3);
        QCOMPARE(r.groupSize, 64);
        QCOMPARE(r.alpha, 0.8f);
        QCOMPARE(r.damp, 0.05f);
        QVERIFY(r.actOrder);
        QCOMPARE(r.calibrationPreset, std::string("standard"));
        QVERIFY(!r.awqClip);
        QVERIFY(!r.configFor("awq").awqClip);
        QCOMPARE(r.calibrationText, run.calibrationText);
        QCOMPARE(r.evalWindows, 5);
        QCOMPARE(r.evalContext, 128);
        const PlaygroundSettings p = w2.playground()->settings();
        QCOMPARE(p.prompt, play.prompt);
        QCOMPARE(p.method, play.method);
        QCOMPARE(p.groupSize, 32);
        QCOMPARE(p.maxTokens, 17);
        QCOMPARE(p.temperature, 0.7f);
        QCOMPARE(p.topP, 0.85f);
        QCOMPARE(p.seed, std::uint64_t(42));
    }

    void badValuesFallBackToDefaults()
    {
        QSettings s;
        s.setValue(QStringLiteral("run/methods"), QStringList{QStringLiteral("bogus"), QStringLiteral("awq"), QStringLiteral("awq")});
        s.setValue(QStringLiteral("run/bits"), 99);
        s.setValue(QStringLiteral("run/groupSize"), 100);
        s.setValue(QStringLiteral("run/alpha"), QStringLiteral("nan"));
        s.setValue(QStringLiteral("run/damp"), -1);
        s.setValue(QStringLiteral("run/calibrationPreset"), QStringLiteral("huge"));
        s.setValue(QStringLiteral("run/evalWindows"), QStringLiteral("many"));
        s.setValue(QStringLiteral("playground/method"), QStringLiteral("magic"));
        s.setValue(QStringLiteral("playground/maxTokens"), 0);
        s.setValue(QStringLiteral("playground/temperature"), 50);
        s.setValue(QStringLiteral("playground/seed"), -3);
        const CompareSettings d;
        const CompareSettings r = qs::ui::loadCompareSettings(s);
        QCOMPARE(r.methods, std::vector<std::string>{"awq"});
        QCOMPARE(r.bits, d.bits);
        QCOMPARE(r.groupSize, d.groupSize);
        QCOMPARE(r.alpha, d.alpha);
        QCOMPARE(r.damp, d.damp);
        QCOMPARE(r.calibrationPreset, d.calibrationPreset);
        QCOMPARE(r.evalWindows, d.evalWindows);
        const PlaygroundSettings pd;
        const PlaygroundSettings p = qs::ui::loadPlaygroundSettings(s);
        QCOMPARE(p.method, pd.method);
        QCOMPARE(p.maxTokens, pd.maxTokens);
        QCOMPARE(p.temperature, pd.temperature);
        QCOMPARE(p.seed, pd.seed);
        s.setValue(QStringLiteral("run/methods"), QStringList{QStringLiteral("bogus")});
        QCOMPARE(qs::ui::loadCompareSettings(s).methods, d.methods);
        s.clear();
    }

    void computeDeviceProbedOnAWorker()
    {
        MainWindow w;
        auto* label = w.computeStatus();
        QVERIFY(label);
        QCOMPARE(label->objectName(), QStringLiteral("computeLabel"));
        QTRY_VERIFY_WITH_TIMEOUT(!label->isProbing(), 20000);
        const auto& probe = label->probe();
        qInfo("status bar: %s (devices %d%s)", qPrintable(label->text()), probe.deviceCount,
              probe.why.empty() ? "" : (", " + probe.why).c_str());
        auto* gpu = w.analysisTabs()->runPanel()->findChild<QCheckBox*>(QStringLiteral("gpuCheck"));
        QVERIFY(gpu);
        gpu->setChecked(false);
        if (probe.gpuName.empty()) {
            QCOMPARE(label->text(), QStringLiteral("Compute: CPU (Eigen)"));
            QVERIFY(!label->toolTip().isEmpty());
        } else {
            // Under ctest this is lavapipe ("llvmpipe (LLVM ...)").
            QVERIFY(label->text().contains(QString::fromStdString(probe.gpuName)));
            QVERIFY(label->text().startsWith(QStringLiteral("Compute: CPU (Eigen)")));
            gpu->setChecked(true);
            QCOMPARE(label->text(), QStringLiteral("Compute: %1 (Vulkan)").arg(QString::fromStdString(probe.gpuName)));
            if (qEnvironmentVariable("VK_DRIVER_FILES").contains(QStringLiteral("lvp_icd")))
                QVERIFY2(label->text().contains(QStringLiteral("llvmpipe")), qPrintable(label->text()));
        }
        // The same answer as asking the core directly.
        QCOMPARE(qs::ui::probeComputeDevices().gpuName, probe.gpuName);
    }

private:
    QTemporaryDir dir_;
};

QTEST_MAIN(TestSettings)
#include "test_settings.moc"
