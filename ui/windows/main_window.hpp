#pragma once
// The main window: File menu (open folder/file/demo, recent models), drag and drop, the layer
// browser on the left, tabs on the right (details, tensor inspector, layer metrics, compare),
// the log in a dock, and a status bar with the open model, run progress and the compute device.
// Opening runs on ModelLoader's thread; inspecting and comparing on the tabs' job runners.
#include "ui/loading/model_loader.hpp"

#include <QMainWindow>

class QLabel;
class QMenu;
class QMessageBox;
class QProgressBar;
class QSplitter;

namespace qs::ui {

class AnalysisTabs;
class ComputeStatusLabel;
class HfCacheDialog;
class LayerBrowser;
class LayerTreeModel;
class ModelDetailsPanel;
class PlaygroundView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens "demo", a path or an HF repo id in the background; see modelOpened/modelOpenFailed.
    void openModel(const QString& spec);
    bool selectTensor(const QString& tensorName);
    // File > Open from Hugging Face Cache: a non-modal dialog that scans the cache on a worker.
    HfCacheDialog* openHfCacheDialog();

    const ModelPtr& currentModel() const { return model_; }
    LayerTreeModel* layerTreeModel() const { return treeModel_; }
    LayerBrowser* layerBrowser() const { return browser_; }
    ModelLoader* loader() const { return loader_; }
    AnalysisTabs* analysisTabs() const { return tabs_; }
    PlaygroundView* playground() const { return playground_; }
    ComputeStatusLabel* computeStatus() const { return computeLabel_; }

signals:
    void modelOpened(const QString& spec);
    void modelOpenFailed(const QString& spec, const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createMenus();
    void createStatusBar();
    void rebuildRecentMenu();
    void openFolderDialog();
    void openFileDialog();
    void onLoadStarted(const QString& spec);
    void onLoaded(const QString& spec, ModelPtr model, double elapsedMs);
    void onLoadFailed(const QString& spec, const QString& message);
    void onCurrentRowChanged(const QModelIndex& sourceIndex);
    void showError(const QString& message);
    void restoreWindowState();
    void saveWindowState();

    ModelLoader* loader_;
    LayerTreeModel* treeModel_;
    ModelPtr model_;
    LayerBrowser* browser_ = nullptr;
    ModelDetailsPanel* details_ = nullptr;
    AnalysisTabs* tabs_ = nullptr;
    PlaygroundView* playground_ = nullptr;
    QSplitter* splitter_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QLabel* modelLabel_ = nullptr;
    ComputeStatusLabel* computeLabel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QMessageBox* errorBox_ = nullptr;
};

} // namespace qs::ui
