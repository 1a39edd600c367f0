#pragma once
// File > Open from Hugging Face Cache: lists every snapshot in the local hub cache ($HF_HUB_CACHE,
// $HF_HOME/hub or ~/.cache/huggingface/hub), scanned on a worker, filterable and sortable; Open
// (or a double click) on an openable row emits modelChosen with the path to open.
#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace qs::ui {

class HfCacheModel;
class JobRunner;

class HfCacheDialog : public QDialog {
    Q_OBJECT
public:
    explicit HfCacheDialog(QWidget* parent = nullptr);
    ~HfCacheDialog() override;

    void scan(const QString& cacheDir); // replaces the listing when done
    QString cacheDir() const { return cacheDir_; }
    bool isScanning() const;

    HfCacheModel* model() const { return model_; }
    QTableView* view() const { return view_; }
    QPushButton* openButton() const { return open_; }
    QLineEdit* filterEdit() const { return filter_; }

signals:
    void modelChosen(const QString& path);
    void scanFinished();

private:
    void chooseFolder();
    void openCurrent();
    void updateOpenEnabled();

    QString cacheDir_;
    HfCacheModel* model_;
    QSortFilterProxyModel* proxy_;
    JobRunner* runner_;
    QLabel* dirLabel_;
    QLabel* summary_;
    QLineEdit* filter_;
    QTableView* view_;
    QPushButton* open_;
};

} // namespace qs::ui
