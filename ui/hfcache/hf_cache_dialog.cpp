#include "ui/hfcache/hf_cache_dialog.hpp"

#include "core/io/model_locator.hpp"
#include "ui/hfcache/hf_cache_model.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/text/number_format.hpp"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace qs::ui {

using Snapshots = std::shared_ptr<std::vector<io::HfCacheSnapshot>>;

HfCacheDialog::HfCacheDialog(QWidget* parent)
    : QDialog(parent), model_(new HfCacheModel(this)), proxy_(new QSortFilterProxyModel(this)),
      runner_(new JobRunner(QStringLiteral("HF cache scan"), this))
{
    setObjectName(QStringLiteral("hfCacheDialog"));
    setWindowTitle(tr("Open from Hugging Face Cache"));
    resize(820, 420);

    dirLabel_ = new QLabel(this);
    dirLabel_->setObjectName(QStringLiteral("hfCacheDirLabel"));
    dirLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* folder = new QPushButton(tr("Other Folder\u2026"), this);
    folder->setObjectName(QStringLiteral("hfCacheFolderButton"));
    auto* rescan = new QPushButton(tr("Rescan"), this);
    rescan->setObjectName(QStringLiteral("hfCacheRescanButton"));
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("hfCacheFilter"));
    filter_->setPlaceholderText(tr("Filter repositories"));
    filter_->setClearButtonEnabled(true);

    proxy_->setSourceModel(model_);
    proxy_->setSortRole(HfCacheModel::SortRole);
    proxy_->setFilterKeyColumn(HfCacheModel::RepoColumn);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    view_ = new QTableView(this);
    view_->setObjectName(QStringLiteral("hfCacheView"));
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(HfCacheModel::RepoColumn, Qt::AscendingOrder);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setSectionResizeMode(HfCacheModel::RepoColumn, QHeaderView::Stretch);
    view_->horizontalHeader()->setSectionResizeMode(HfCacheModel::ContentsColumn, QHeaderView::ResizeToContents);
    view_->setAlternatingRowColors(true);

    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("hfCacheSummary"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    open_ = buttons->addButton(tr("Open"), QDialogButtonBox::AcceptRole);
    open_->setObjectName(QStringLiteral("hfCacheOpenButton"));
    open_->setEnabled(false);

    auto* top = new QHBoxLayout;
    top->addWidget(dirLabel_, 1);
    top->addWidget(folder);
    top->addWidget(rescan);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(summary_, 1);
    bottom->addWidget(buttons);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(filter_);
    layout->addWidget(view_, 1);
    layout->addLayout(bottom);

    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
    connect(folder, &QPushButton::clicked, this, &HfCacheDialog::chooseFolder);
    connect(rescan, &QPushButton::clicked, this, [this] { scan(cacheDir_); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(open_, &QPushButton::clicked, this, &HfCacheDialog::openCurrent);
    connect(view_, &QTableView::doubleClicked, this, &HfCacheDialog::openCurrent);
    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &HfCacheDialog::updateOpenEnabled);
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        auto snaps = std::any_cast<Snapshots>(r);
        int openable = 0;
        std::uint64_t bytes = 0;
        for (const auto& s : *snaps) {
            openable += s.openable() ? 1 : 0;
            bytes += s.bytes;
        }
        model_->setSnapshots(std::move(*snaps));
        view_->resizeColumnToContents(HfCacheModel::RevisionColumn);
        view_->resizeColumnToContents(HfCacheModel::SizeColumn);
        view_->resizeColumnToContents(HfCacheModel::ModifiedColumn);
        summary_->setText(model_->rowCount() == 0
                              ? tr("No models in this cache.")
                              : tr("%1 snapshots, %2 openable, %3 on disk")
                                    .arg(model_->rowCount())
                                    .arg(openable)
                                    .arg(formatBytes(bytes)));
        updateOpenEnabled();
        emit scanFinished();
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        summary_->setText(tr("Cannot scan: %1").arg(message));
        emit scanFinished();
    });

    scan(QString::fromStdString(io::huggingFaceCacheDir().string()));
}

HfCacheDialog::~HfCacheDialog() = default;

bool HfCacheDialog::isScanning() const { return runner_->isRunning(); }

void HfCacheDialog::scan(const QString& cacheDir)
{
    cacheDir_ = cacheDir;
    dirLabel_->setText(tr("Cache: %1").arg(cacheDir));
    summary_->setText(tr("Scanning\u2026"));
    const std::filesystem::path dir = cacheDir.toStdString();
    runner_->start(tr("scan %1").arg(cacheDir), [dir](JobContext& job) -> JobResult {
        return std::make_shared<std::vector<io::HfCacheSnapshot>>(io::scanHuggingFaceCache(dir, &job.progress()));
    });
}

void HfCacheDialog::chooseFolder()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Hugging Face Cache Folder"), cacheDir_);
    if (!dir.isEmpty())
        scan(dir);
}

void HfCacheDialog::updateOpenEnabled()
{
    const QModelIndex current = view_->currentIndex();
    open_->setEnabled(current.isValid() && current.data(HfCacheModel::OpenableRole).toBool());
}

void HfCacheDialog::openCurrent()
{
    const QModelIndex current = view_->currentIndex();
    if (!current.isValid() || !current.data(HfCacheModel::OpenableRole).toBool())
        return;
    emit modelChosen(current.data(HfCacheModel::OpenPathRole).toString());
    accept();
}

} // namespace qs::ui
