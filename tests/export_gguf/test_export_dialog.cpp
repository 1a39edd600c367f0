// The export dialog, offscreen, on the demo model: opened from the compare view's button, it
// exports RTN int4 g32 to GGUF on a worker (the notes say the linears were not requantized and
// the file reopens), and a cancelled export leaves nothing in the target folder.
#include "common/test_support.hpp"

#include "core/model/model.hpp"
#include "ui/compare/compare_view.hpp"
#include "ui/export/export_dialog.hpp"
#include "ui/windows/analysis_tabs.hpp"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>

using namespace qs;

namespace {

std::shared_ptr<const model::Model> demo()
{
    static auto m = std::make_shared<const model::Model>(model::openModel("demo"));
    return m;
}

ui::CompareSettings rtnG32()
{
    ui::CompareSettings s;
    s.methods = {"rtn"};
    s.groupSize = 32;
    s.calibrationPreset = "tiny";
    return s;
}

std::size_t entriesIn(const std::filesystem::path& dir)
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

class TestExportDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void buttonNeedsAModel()
    {
        ui::CompareView view;
        auto* button = view.findChild<QPushButton*>(QStringLiteral("compareExportModel"));
        QVERIFY(button);
        QVERIFY(!button->isEnabled());
        QVERIFY(!view.openExportDialog());
        view.setExportSource(demo(), rtnG32());
        QVERIFY(button->isEnabled());
    }

    // The analysis tabs hand the loaded model to the compare view: the button is live.
    void analysisTabsEnableTheButton()
    {
        ui::AnalysisTabs tabs(nullptr);
        auto* button = tabs.compareView()->findChild<QPushButton*>(QStringLiteral("compareExportModel"));
        QVERIFY(button);
        QVERIFY(!button->isEnabled());
        tabs.setModel(demo());
        QVERIFY(button->isEnabled());
        tabs.setModel(nullptr);
        QVERIFY(!button->isEnabled());
    }

    void exportsRtnG32ToGguf()
    {
        try {
            test::ScratchDir dir;
            ui::CompareView view;
            view.setExportSource(demo(), rtnG32());
            ui::ExportDialog* dialog = view.openExportDialog();
            QVERIFY(dialog);
            auto* method = dialog->findChild<QComboBox*>(QStringLiteral("exportMethod"));
            auto* format = dialog->findChild<QComboBox*>(QStringLiteral("exportFormat"));
            auto* type = dialog->findChild<QComboBox*>(QStringLiteral("exportGgufType"));
            auto* path = dialog->findChild<QLineEdit*>(QStringLiteral("exportPath"));
            auto* start = dialog->findChild<QPushButton*>(QStringLiteral("exportStart"));
            auto* status = dialog->findChild<QLabel*>(QStringLiteral("exportStatus"));
            auto* notes = dialog->findChild<QPlainTextEdit*>(QStringLiteral("exportNotes"));
            QVERIFY(method && format && type && path && start && status && notes);
            QCOMPARE(method->count(), 2); // none + rtn
            QVERIFY(!start->isEnabled()); // no target yet
            method->setCurrentIndex(1);
            format->setCurrentText(QStringLiteral("gguf"));
            type->setCurrentText(QStringLiteral("Q8_0"));
            const auto out = dir / "demo-rtn.gguf";
            QTest::keyClicks(path, QString::fromStdString(out.string()));
            QVERIFY(start->isEnabled());
            QSignalSpy done(dialog, &ui::ExportDialog::exportFinished);
            QTest::mouseClick(start, Qt::LeftButton);
            QVERIFY(!start->isEnabled()); // running
            QVERIFY(done.wait(60000));
            QCOMPARE(done.front().front().toBool(), true);
            QVERIFY2(status->text().startsWith(QStringLiteral("Wrote")), qPrintable(status->text()));
            QVERIFY2(notes->toPlainText().contains(QStringLiteral("without requantizing")), qPrintable(notes->toPlainText()));
            QVERIFY(dialog->lastResult());
            QCOMPARE(dialog->lastResult()->tensorsVerified, dialog->lastResult()->tensors);
            QCOMPARE(std::filesystem::file_size(out), dialog->lastResult()->bytes);
            const auto back = model::openModel(out.string());
            QCOMPARE(back.spec.numLayers, demo()->spec.numLayers);
            QCOMPARE(entriesIn(dir.path()), std::size_t(1));
            QVERIFY(start->isEnabled());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void cancelLeavesNothing()
    {
        try {
            test::ScratchDir dir;
            ui::CompareView view;
            view.setExportSource(demo(), rtnG32());
            ui::ExportDialog* dialog = view.openExportDialog();
            dialog->findChild<QComboBox*>(QStringLiteral("exportMethod"))->setCurrentIndex(1);
            dialog->findChild<QLineEdit*>(QStringLiteral("exportPath"))->setText(QString::fromStdString((dir / "x.gguf").string()));
            auto* cancel = dialog->findChild<QPushButton*>(QStringLiteral("exportCancel"));
            QVERIFY(!cancel->isEnabled());
            QSignalSpy done(dialog, &ui::ExportDialog::exportFinished);
            QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("exportStart")), Qt::LeftButton);
            QVERIFY(cancel->isEnabled());
            QTest::mouseClick(cancel, Qt::LeftButton);
            QVERIFY(done.wait(60000));
            QCOMPARE(done.front().front().toBool(), false);
            QVERIFY2(dialog->findChild<QLabel*>(QStringLiteral("exportStatus"))->text().startsWith(QStringLiteral("Cancelled")),
                     qPrintable(dialog->findChild<QLabel*>(QStringLiteral("exportStatus"))->text()));
            QCOMPARE(entriesIn(dir.path()), std::size_t(0));
            QVERIFY(!dialog->lastResult());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void failureIsShown()
    {
        ui::CompareView view;
        view.setExportSource(demo(), rtnG32());
        ui::ExportDialog* dialog = view.openExportDialog();
        dialog->findChild<QLineEdit*>(QStringLiteral("exportPath"))->setText(QStringLiteral("/nonexistent-folder-qs/x.gguf"));
        QSignalSpy done(dialog, &ui::ExportDialog::exportFinished);
        QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("exportStart")), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        const QString text = dialog->findChild<QLabel*>(QStringLiteral("exportStatus"))->text();
        QVERIFY2(text.startsWith(QStringLiteral("Failed")) && text.contains(QStringLiteral("/nonexistent-folder-qs/x.gguf")),
                 qPrintable(text));
    }
};

QTEST_MAIN(TestExportDialog)
#include "test_export_dialog.moc"
