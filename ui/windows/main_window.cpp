#include "ui/windows/main_window.hpp"

#include "ui/windows/analysis_tabs.hpp"
#include "ui/compare/run_panel.hpp"

#include "ui/hfcache/hf_cache_dialog.hpp"
#include "ui/logging/log_view.hpp"
#include "ui/models/layer_tree_model.hpp"
#include "ui/panels/layer_browser.hpp"
#include "ui/panels/model_details_panel.hpp"
#include "ui/playground/playground_view.hpp"
#include "ui/settings/recent_models.hpp"
#include "ui/settings/run_settings_store.hpp"
#include "ui/status/compute_status.hpp"
#include "ui/text/number_format.hpp"

#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTreeView>

#include <spdlog/spdlog.h>

namespace qs::ui {

namespace {

// A dropped URL we can open: a folder, or a .gguf / .safetensors / index file.
QString openableLocalPath(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl& url : mime->urls()) {
        if (!url.isLocalFile())
            continue;
        const QFileInfo info(url.toLocalFile());
        const QString name = info.fileName();
        if (info.isDir() || name.endsWith(QLatin1String(".gguf")) || name.endsWith(QLatin1String(".safetensors"))
            || name.endsWith(QLatin1String(".safetensors.index.json")))
            return info.absoluteFilePath();
    }
    return {};
}

QString displayName(const model::Model& m)
{
    const auto& p = m.source;
    // A Hugging Face cache snapshot (.../models--org--name/snapshots/<rev>[/file.gguf]): the repo id.
    for (auto dir = p; dir.has_parent_path() && dir != dir.parent_path(); dir = dir.parent_path()) {
        const auto repoDir = dir.parent_path().parent_path().filename().string();
        if (dir.parent_path().filename() != "snapshots" || !repoDir.starts_with("models--"))
            continue;
        QString id = QString::fromStdString(repoDir).mid(8);
        if (const auto sep = id.indexOf(QLatin1String("--")); sep >= 0)
            id.replace(sep, 2, QLatin1Char('/'));
        return dir == p ? id : QStringLiteral("%1 \u00b7 %2").arg(id, QString::fromStdString(p.filename().string()));
    }
    return QString::fromStdString(p.filename().empty() ? p.parent_path().filename().string() : p.filename().string());
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), loader_(new ModelLoader(this)), treeModel_(new LayerTreeModel(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("QuantScope"));
    setAcceptDrops(true);

    browser_ = new LayerBrowser(treeModel_, this);
    details_ = new ModelDetailsPanel;
    auto* detailsScroll = new QScrollArea(this);
    detailsScroll->setObjectName(QStringLiteral("detailsScroll"));
    detailsScroll->setWidget(details_);
    detailsScroll->setWidgetResizable(true);
    detailsScroll->setFrameShape(QFrame::NoFrame);

    splitter_ = new QSplitter(Qt::Horizontal, this);
    splitter_->setObjectName(QStringLiteral("mainSplitter"));
    tabs_ = new AnalysisTabs(detailsScroll, this);
    playground_ = new PlaygroundView(tabs_);
    tabs_->addTab(playground_, tr("Playground"));
    splitter_->addWidget(browser_);
    splitter_->addWidget(tabs_);
    splitter_->setStretchFactor(0, 2);
    splitter_->setStretchFactor(1, 5);
    splitter_->setChildrenCollapsible(false);
    setCentralWidget(splitter_);

    auto* logDock = new QDockWidget(tr("Log"), this);
    logDock->setObjectName(QStringLiteral("logDock"));
    logDock->setWidget(new LogView(logDock));
    addDockWidget(Qt::BottomDockWidgetArea, logDock);

    createMenus();
    menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu"))->addAction(logDock->toggleViewAction());
    createStatusBar();

    connect(loader_, &ModelLoader::started, this, &MainWindow::onLoadStarted);
    connect(loader_, &ModelLoader::loaded, this, &MainWindow::onLoaded);
    connect(loader_, &ModelLoader::failed, this, &MainWindow::onLoadFailed);
    connect(browser_, &LayerBrowser::currentChanged, this, &MainWindow::onCurrentRowChanged);
    connect(tabs_, &AnalysisTabs::tensorRequested, this, &MainWindow::selectTensor);
    connect(tabs_, &AnalysisTabs::computeDeviceChanged, this,
            [this](const QString& name) { computeLabel_->showRunBackend(name); });
    connect(tabs_, &AnalysisTabs::runProgressed, this, [this](const QString& stage, double fraction, double) {
        statusBar()->showMessage(QStringLiteral("%1 \u00b7 %2%").arg(stage).arg(int(100 * fraction)));
    });
    connect(tabs_, &AnalysisTabs::runStarted, this, [this] { // kept even if the app dies mid-run
        QSettings s;
        saveCompareSettings(s, tabs_->runPanel()->settings());
    });
    connect(tabs_, &AnalysisTabs::runFinished, this, [this] { statusBar()->showMessage(tr("Compare finished"), 5000); });
    connect(tabs_, &AnalysisTabs::runCancelled, this, [this] { statusBar()->showMessage(tr("Compare cancelled"), 5000); });
    connect(tabs_, &AnalysisTabs::runFailed, this, [this] { statusBar()->showMessage(tr("Compare failed"), 5000); });

    restoreWindowState();
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->setObjectName(QStringLiteral("fileMenu"));
    QAction* openFolder = file->addAction(tr("Open &Folder\u2026"), this, &MainWindow::openFolderDialog);
    openFolder->setObjectName(QStringLiteral("actionOpenFolder"));
    openFolder->setShortcut(QKeySequence::Open);
    QAction* openFile = file->addAction(tr("Open F&ile\u2026"), this, &MainWindow::openFileDialog);
    openFile->setObjectName(QStringLiteral("actionOpenFile"));
    openFile->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
    QAction* demo = file->addAction(tr("Open &Demo Model"), this, [this] { openModel(QStringLiteral("demo")); });
    demo->setObjectName(QStringLiteral("actionOpenDemo"));
    QAction* hf = file->addAction(tr("Open from &Hugging Face Cache\u2026"), this, &MainWindow::openHfCacheDialog);
    hf->setObjectName(QStringLiteral("actionOpenHfCache"));
    recentMenu_ = file->addMenu(tr("&Recent Models"));
    recentMenu_->setObjectName(QStringLiteral("recentMenu"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setObjectName(QStringLiteral("actionQuit"));
    quit->setShortcut(QKeySequence::Quit);
    rebuildRecentMenu();

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->setObjectName(QStringLiteral("viewMenu"));
    const QString tabNames[] = {tr("&Details"), tr("&Inspector"), tr("Layer &Metrics"), tr("&Compare")};
    for (int i = 0; i < 4; ++i) {
        QAction* a = view->addAction(tabNames[i], this, [this, i] { tabs_->setCurrentIndex(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    QAction* playground = view->addAction(tr("&Playground"), this, [this] { tabs_->setCurrentWidget(playground_); });
    playground->setObjectName(QStringLiteral("actionShowPlayground"));
    playground->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    view->addSeparator();
}

void MainWindow::createStatusBar()
{
    modelLabel_ = new QLabel(tr("No model open"), this);
    modelLabel_->setObjectName(QStringLiteral("statusModelLabel"));
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("openProgress"));
    progress_->setRange(0, 0); // opening reports no fraction: a busy indicator
    progress_->setMaximumWidth(140);
    progress_->setMaximumHeight(16);
    progress_->setTextVisible(false);
    progress_->hide();
    // Probed on a worker; follows the run panel's GPU choice; a finished run shows its backend.
    computeLabel_ = new ComputeStatusLabel(this);
    if (auto* gpu = tabs_->runPanel()->findChild<QCheckBox*>(QStringLiteral("gpuCheck"))) {
        computeLabel_->setGpuRequested(gpu->isChecked());
        connect(gpu, &QCheckBox::toggled, computeLabel_, &ComputeStatusLabel::setGpuRequested);
    }
    statusBar()->addWidget(modelLabel_, 1);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(computeLabel_);
}

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList recent = RecentModels::load();
    for (int i = 0; i < recent.size(); ++i) {
        const QString spec = recent[i];
        QAction* a = recentMenu_->addAction(QStringLiteral("&%1  %2").arg(i + 1).arg(spec),
                                            this, [this, spec] { openModel(spec); });
        a->setData(spec);
    }
    if (!recent.isEmpty())
        recentMenu_->addSeparator();
    QAction* clear = recentMenu_->addAction(tr("Clear Recent Models"), this, [this] {
        RecentModels::clear();
        rebuildRecentMenu();
    });
    clear->setObjectName(QStringLiteral("actionClearRecent"));
    clear->setEnabled(!recent.isEmpty());
}

void MainWindow::openFolderDialog()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"),
                                                          QSettings().value(QStringLiteral("lastOpenDir")).toString());
    if (dir.isEmpty())
        return;
    QSettings().setValue(QStringLiteral("lastOpenDir"), QFileInfo(dir).absolutePath());
    openModel(dir);
}

void MainWindow::openFileDialog()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Open Model File"),
                                                      QSettings().value(QStringLiteral("lastOpenDir")).toString(),
                                                      tr("Model files (*.gguf *.safetensors);;All files (*)"));
    if (file.isEmpty())
        return;
    QSettings().setValue(QStringLiteral("lastOpenDir"), QFileInfo(file).absolutePath());
    openModel(file);
}

HfCacheDialog* MainWindow::openHfCacheDialog()
{
    auto* dialog = new HfCacheDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &HfCacheDialog::modelChosen, this, &MainWindow::openModel);
    dialog->open();
    return dialog;
}

void MainWindow::openModel(const QString& spec)
{
    const QString trimmed = spec.trimmed();
    if (trimmed.isEmpty())
        return;
    loader_->open(trimmed);
}

bool MainWindow::selectTensor(const QString& tensorName) { return browser_->selectTensor(tensorName); }

void MainWindow::onLoadStarted(const QString& spec)
{
    progress_->show();
    statusBar()->showMessage(tr("Opening %1\u2026").arg(spec));
}

void MainWindow::onLoaded(const QString& spec, ModelPtr model, double elapsedMs)
{
    progress_->setVisible(loader_->isBusy());
    statusBar()->clearMessage();
    QElapsedTimer shown; // the GUI thread's share of opening: tree and panels, no I/O
    shown.start();
    model_ = std::move(model);
    treeModel_->setModel(model_);
    details_->showModel(model_.get());
    browser_->showInitialState();
    tabs_->setModel(model_);
    playground_->setModel(model_);

    const QString name = displayName(*model_);
    setWindowTitle(QStringLiteral("%1 \u2014 QuantScope").arg(name));
    const auto& ck = *model_->checkpoint;
    modelLabel_->setText(tr("%1 \u00b7 %2 parameters \u00b7 %3 \u00b7 opened in %4 ms")
                             .arg(name, formatCount(ck.totalParameters()), formatBytes(ck.totalBytes()))
                             .arg(elapsedMs, 0, 'f', elapsedMs < 10 ? 1 : 0));
    modelLabel_->setToolTip(QString::fromStdString(model_->source.string()));

    RecentModels::add(spec);
    rebuildRecentMenu();
    spdlog::info("showing '{}' took {:.1f} ms on the GUI thread", spec.toStdString(),
                 static_cast<double>(shown.nsecsElapsed()) / 1e6);
    emit modelOpened(spec);
}

void MainWindow::onLoadFailed(const QString& spec, const QString& message)
{
    progress_->setVisible(loader_->isBusy());
    statusBar()->showMessage(tr("Cannot open %1").arg(spec), 10000);
    showError(message);
    emit modelOpenFailed(spec, message);
}

void MainWindow::showError(const QString& message)
{
    // Non-modal for the event loop (open(), not exec()): a loader signal or a test can go on
    // while it is up. One box at a time: a second error replaces the text.
    if (!errorBox_) {
        errorBox_ = new QMessageBox(QMessageBox::Warning, tr("Cannot open model"), QString(), QMessageBox::Ok, this);
        errorBox_->setObjectName(QStringLiteral("openErrorBox"));
        errorBox_->setAttribute(Qt::WA_DeleteOnClose);
        connect(errorBox_, &QObject::destroyed, this, [this] { errorBox_ = nullptr; });
    }
    errorBox_->setText(message);
    errorBox_->open();
}

void MainWindow::onCurrentRowChanged(const QModelIndex& sourceIndex)
{
    if (!sourceIndex.isValid()) {
        details_->clearSelection();
        tabs_->showTensor({});
        return;
    }
    if (const io::TensorInfo* t = treeModel_->toTensorInfo(sourceIndex)) {
        details_->showTensor(*t);
        tabs_->showTensor(QString::fromStdString(t->name));
        return;
    }
    tabs_->showTensor({});
    const QModelIndex row = sourceIndex.siblingAtColumn(LayerTreeModel::NameColumn);
    details_->showGroup(row.data().toString(), row.data(LayerTreeModel::TensorCountRole).toInt(),
                        row.data(LayerTreeModel::ParamsRole).toLongLong(),
                        row.data(LayerTreeModel::BytesRole).toULongLong(),
                        sourceIndex.siblingAtColumn(LayerTreeModel::DTypeColumn).data().toString());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    tabs_->cancelCompare(); // the runner's destructor then waits for the job's next check only
    playground_->cancel();
    saveWindowState();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!openableLocalPath(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QString path = openableLocalPath(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    openModel(path);
}

void MainWindow::restoreWindowState()
{
    QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("mainWindow/geometry")).toByteArray()))
        resize(1280, 800);
    if (!restoreState(s.value(QStringLiteral("mainWindow/state")).toByteArray())) {
        // First start: the log is a strip under the browser, not half the window.
        if (auto* dock = findChild<QDockWidget*>(QStringLiteral("logDock")))
            resizeDocks({dock}, {110}, Qt::Vertical);
    }
    if (!splitter_->restoreState(s.value(QStringLiteral("mainWindow/splitter")).toByteArray()))
        splitter_->setSizes({400, 880});
    tabs_->runPanel()->setSettings(loadCompareSettings(s));
    playground_->setSettings(loadPlaygroundSettings(s));
}

void MainWindow::saveWindowState()
{
    QSettings s;
    s.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    s.setValue(QStringLiteral("mainWindow/state"), saveState());
    s.setValue(QStringLiteral("mainWindow/splitter"), splitter_->saveState());
    saveCompareSettings(s, tabs_->runPanel()->settings());
    savePlaygroundSettings(s, playground_->settings());
}

} // namespace qs::ui
