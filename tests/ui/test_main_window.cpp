// The main window offscreen: open a tiny safetensors model through the loader thread, browse
// the tree, click a tensor, filter, drop a folder, fail on a missing path, recent models, logs.
#include "tiny_checkpoint.hpp"
#include "window_test_support.hpp"
#include "ui/logging/app_logging.hpp"
#include "ui/models/layer_tree_model.hpp"
#include "ui/text/number_format.hpp"
#include "ui/panels/layer_browser.hpp"
#include "ui/settings/recent_models.hpp"
#include "ui/windows/main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QRandomGenerator>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QtTest/QtTest>

#include <spdlog/spdlog.h>

using qs::ui::LayerTreeModel;
using qs::ui::MainWindow;

using qs::test::kWaitMs;
using qs::test::labelText;

namespace {

QModelIndex proxyIndexOf(MainWindow& w, const QString& tensorName)
{
    const QModelIndex source = w.layerTreeModel()->indexOfTensor(tensorName);
    return w.layerBrowser()->proxy()->mapFromSource(source);
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("QuantScopeTest"));
        qs::test::writeTinyLlama(scratch_ / "tiny-llama", shape_);
        qs::test::writeTinyUnknownArch(scratch_ / "tiny-gpt2");
        llama_ = QString::fromStdString((scratch_ / "tiny-llama").string());
        unknown_ = QString::fromStdString((scratch_ / "tiny-gpt2").string());
    }

    void init() { QSettings().clear(); }

    void opensModelInBackgroundAndShowsTree()
    {
        MainWindow w;
        w.show();
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        auto* progress = w.findChild<QProgressBar*>(QStringLiteral("openProgress"));
        QVERIFY(progress);
        w.openModel(llama_);
        QVERIFY(progress->isVisible()); // busy while the worker opens
        QVERIFY(opened.wait(kWaitMs));
        QVERIFY(!progress->isVisible());
        QCOMPARE(opened.first().first().toString(), llama_);

        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        QCOMPARE(tree->rowCount(), 1 + shape_.layers + 2);
        QCOMPARE(tree->index(0, 0).data().toString(), QStringLiteral("Embeddings"));
        QCOMPARE(tree->index(2, 0).data().toString(), QStringLiteral("Block 1"));
        QCOMPARE(tree->index(shape_.layers + 2, 0).data().toString(), QStringLiteral("LM head"));
        const QModelIndex attn = tree->index(0, 0, tree->index(1, 0));
        QCOMPARE(attn.data().toString(), QStringLiteral("Attention"));
        QCOMPARE(tree->rowCount(attn), 4);
        const int kv = shape_.hidden / shape_.heads * shape_.kvHeads;
        QCOMPARE(tree->index(1, LayerTreeModel::ShapeColumn, attn).data().toString(),
                 QStringLiteral("[%1, %2]").arg(kv).arg(shape_.hidden));
        QVERIFY(w.layerBrowser()->view()->isExpanded(attn)); // the first block starts open

        QCOMPARE(labelText(w, "summaryStatus"), QStringLiteral("supported"));
        QCOMPARE(labelText(w, "summaryLayers"), QString::number(shape_.layers));
        QCOMPARE(labelText(w, "summaryHeads"),
                 QStringLiteral("%1 / %2 (head dim %3)").arg(shape_.heads).arg(shape_.kvHeads).arg(shape_.hidden / shape_.heads));
        QVERIFY(labelText(w, "summaryParameters").contains(qs::ui::formatExact(w.currentModel()->checkpoint->totalParameters())));
        QVERIFY(labelText(w, "summaryArchitecture").startsWith(QStringLiteral("LlamaForCausalLM")));
        QVERIFY(labelText(w, "statusModelLabel").startsWith(QStringLiteral("tiny-llama")));
        // Probed on a worker; runs use the CPU until the run panel asks for the GPU.
        QTRY_VERIFY(labelText(w, "computeLabel").startsWith(QStringLiteral("Compute: CPU (Eigen)")));
        QVERIFY(w.windowTitle().contains(QStringLiteral("tiny-llama")));
    }

    void clickingARowShowsItsDetails()
    {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        w.openModel(llama_);
        QVERIFY(opened.wait(kWaitMs));

        QTreeView* view = w.layerBrowser()->view();
        const QString name = QStringLiteral("model.layers.0.mlp.down_proj.weight");
        const QModelIndex idx = proxyIndexOf(w, name);
        QVERIFY(idx.isValid());
        view->scrollTo(idx);
        const QRect rect = view->visualRect(idx);
        QVERIFY(rect.isValid());
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
        QCOMPARE(view->currentIndex().siblingAtColumn(0), idx);

        QCOMPARE(labelText(w, "tensorName"), name);
        QCOMPARE(labelText(w, "tensorShape"), QStringLiteral("[%1, %2]").arg(shape_.hidden).arg(shape_.intermediate));
        QCOMPARE(labelText(w, "tensorDtype"), QStringLiteral("F32"));
        const qint64 bytes = qint64(shape_.hidden) * shape_.intermediate * 4;
        QVERIFY2(labelText(w, "tensorBytes").contains(qs::ui::formatExact(bytes)), qPrintable(labelText(w, "tensorBytes")));
        QCOMPARE(labelText(w, "tensorFile"), QStringLiteral("model.safetensors"));
        const auto* info = w.currentModel()->checkpoint->find(name.toStdString());
        QVERIFY(info);
        QCOMPARE(labelText(w, "tensorOffset"), qs::ui::formatExact(static_cast<qint64>(info->offset)));

        // A group row shows its totals instead.
        const QModelIndex block = idx.parent().parent();
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(block).center());
        QCOMPARE(labelText(w, "tensorName"), QStringLiteral("Block 0 (9 tensors)"));
    }

    void filterNarrowsTheTree()
    {
        MainWindow w;
        w.show();
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        w.openModel(llama_);
        QVERIFY(opened.wait(kWaitMs));
        QLineEdit* filter = w.findChild<QLineEdit*>(QStringLiteral("layerFilter"));
        QVERIFY(filter);
        QTest::keyClicks(filter, QStringLiteral("up_proj"));
        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        QCOMPARE(tree->rowCount(), shape_.layers);
        const QModelIndex mlp = tree->index(0, 0, tree->index(shape_.layers - 1, 0));
        QCOMPARE(tree->rowCount(mlp), 1);
        QCOMPARE(tree->index(0, 0, mlp).data(LayerTreeModel::TensorNameRole).toString(),
                 QStringLiteral("model.layers.%1.mlp.up_proj.weight").arg(shape_.layers - 1));
        filter->clear();
        QCOMPARE(tree->rowCount(), 1 + shape_.layers + 2);
    }

    void missingPathShowsErrorAndKeepsModel()
    {
        MainWindow w;
        w.show();
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        w.openModel(llama_);
        QVERIFY(opened.wait(kWaitMs));

        const QString missing = QString::fromStdString((scratch_ / "no-such-model").string());
        w.openModel(missing);
        QVERIFY(failed.wait(kWaitMs));
        auto* box = w.findChild<QMessageBox*>(QStringLiteral("openErrorBox"));
        QVERIFY(box);
        QVERIFY(box->isVisible());
        QVERIFY(!box->text().isEmpty());
        QVERIFY(!box->text().contains(QLatin1Char('\n')));
        QVERIFY2(box->text().contains(QStringLiteral("no-such-model")), qPrintable(box->text()));
        QCOMPARE(failed.first().at(1).toString(), box->text());
        // The model that was open stays open and browsable.
        QVERIFY(w.currentModel());
        QCOMPARE(w.layerBrowser()->view()->model()->rowCount(), 1 + shape_.layers + 2);
        box->close();
        QTRY_VERIFY(!w.findChild<QMessageBox*>(QStringLiteral("openErrorBox")));
        QVERIFY(!qs::ui::RecentModels::load().contains(missing));
    }

    void newerRequestSupersedesOlder()
    {
        MainWindow w;
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        w.openModel(QString::fromStdString((scratch_ / "missing").string()));
        w.openModel(llama_);
        QVERIFY(opened.wait(kWaitMs));
        QTest::qWait(50);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(opened.count(), 1);
    }

    void unknownArchitectureOpensForInspection()
    {
        MainWindow w;
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        w.openModel(unknown_);
        QVERIFY(opened.wait(kWaitMs));
        QVERIFY2(labelText(w, "summaryStatus").contains(QStringLiteral("not supported yet")),
                 qPrintable(labelText(w, "summaryStatus")));
        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        QCOMPARE(tree->rowCount(), 1);
        QCOMPARE(tree->index(0, 0).data().toString(), QStringLiteral("Other"));
        QCOMPARE(tree->rowCount(tree->index(0, 0)), 2);
    }

    void dropOpensFolder()
    {
        MainWindow w;
        w.show();
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(llama_)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QVERIFY(opened.wait(kWaitMs));

        QMimeData text;
        text.setUrls({QUrl::fromLocalFile(QString::fromStdString((scratch_ / "tiny-llama" / "config.json").string()))});
        QDragEnterEvent refused(QPoint(10, 10), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
        refused.setAccepted(false);
        QApplication::sendEvent(&w, &refused);
        QVERIFY(!refused.isAccepted());
    }

    void recentModelsAreRemembered()
    {
        {
            MainWindow w;
            QSignalSpy opened(&w, &MainWindow::modelOpened);
            for (const QString& m : {llama_, unknown_, llama_}) {
                w.openModel(m);
                QVERIFY(opened.wait(kWaitMs));
            }
            auto* menu = w.findChild<QMenu*>(QStringLiteral("recentMenu"));
            QVERIFY(menu);
            QStringList specs;
            for (QAction* a : menu->actions())
                if (a->data().isValid())
                    specs << a->data().toString();
            QCOMPARE(specs, (QStringList{llama_, unknown_}));
            w.close(); // saves the window state
        }
        QCOMPARE(qs::ui::RecentModels::load(), (QStringList{llama_, unknown_}));
        QVERIFY(!QSettings().value(QStringLiteral("mainWindow/geometry")).toByteArray().isEmpty());

        for (int i = 0; i < 12; ++i)
            qs::ui::RecentModels::add(QStringLiteral("org/model-%1").arg(i));
        const QStringList list = qs::ui::RecentModels::load();
        QCOMPARE(list.size(), qs::ui::RecentModels::kMaxEntries);
        QCOMPARE(list.first(), QStringLiteral("org/model-11"));
        QVERIFY(!list.contains(llama_));
    }

    void logsGoToFileAndDock()
    {
        const QString path = qs::ui::setupLogging();
        QVERIFY(path.endsWith(QStringLiteral("/logs/quantscope.log")));
        QVERIFY2(path.contains(QStringLiteral(".qttest")), qPrintable(path)); // never the user's real log
        MainWindow w;
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        const QString missing = QStringLiteral("/nonexistent-%1/model").arg(QRandomGenerator::global()->generate());
        w.openModel(missing);
        QVERIFY(failed.wait(kWaitMs));
        spdlog::default_logger()->flush();
        const QString log = QString::fromStdString(qs::test::readFile(path.toStdString()));
        QVERIFY(log.contains(QStringLiteral("opening model '%1'").arg(missing)));
        QVERIFY(log.contains(QStringLiteral("cannot open model: %1").arg(missing)));
        auto* view = w.findChild<QPlainTextEdit*>(QStringLiteral("logView"));
        QVERIFY(view);
        QTRY_VERIFY(view->toPlainText().contains(QStringLiteral("cannot open model: %1").arg(missing)));
    }

private:
    qs::test::ScratchDir scratch_;
    qs::test::TinyModelShape shape_{3, 16, 4, 2, 32, 64};
    QString llama_;
    QString unknown_;
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
