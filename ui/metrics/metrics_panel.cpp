#include "ui/metrics/metrics_panel.hpp"

#include "ui/export/csv_export.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/metrics/linear_metrics_model.hpp"
#include "ui/metrics/model_error_strip.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace qs::ui {

MetricsPanel::MetricsPanel(QWidget* parent)
    : QWidget(parent), model_(new LinearMetricsModel(this)), proxy_(new QSortFilterProxyModel(this)),
      runner_(new JobRunner(QStringLiteral("LinearScan"), this))
{
    setObjectName(QStringLiteral("metricsPanel"));
    proxy_->setObjectName(QStringLiteral("metricsProxy"));
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(LinearMetricsModel::SortRole);
    proxy_->setFilterKeyColumn(LinearMetricsModel::NameColumn);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);

    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("metricsFilter"));
    filter_->setPlaceholderText(tr("Filter linears (e.g. down_proj, layers.3.)"));
    filter_->setClearButtonEnabled(true);
    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& t) { proxy_->setFilterFixedString(t.trimmed()); });

    strip_ = new ModelErrorStrip(model_, this);
    stripMethod_ = new QComboBox(this);
    stripMethod_->setObjectName(QStringLiteral("stripMethodCombo"));
    stripMethod_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(stripMethod_, &QComboBox::currentIndexChanged, this,
            [this] { strip_->setMethod(stripMethod_->currentData().toString()); });
    connect(model_, &LinearMetricsModel::errorsChanged, this, &MetricsPanel::refreshMethodCombo);
    refreshMethodCombo();

    view_ = new QTableView(this);
    view_->setObjectName(QStringLiteral("metricsTable"));
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(LinearMetricsModel::NameColumn, Qt::AscendingOrder);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->setAlternatingRowColors(true);
    view_->setTextElideMode(Qt::ElideLeft); // the end of a name tells linears apart
    view_->verticalHeader()->hide();
    view_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    view_->horizontalHeader()->setSectionResizeMode(LinearMetricsModel::NameColumn, QHeaderView::Stretch);
    view_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(view_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        QMenu menu(this);
        menu.addAction(tr("Export Table as CSV\u2026"), this,
                       [this] { exportCsvWithDialog(*proxy_, this, QStringLiteral("layer-metrics.csv")); });
        menu.exec(view_->viewport()->mapToGlobal(pos));
    });
    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& i) {
        if (i.isValid())
            emit tensorActivated(i.data(LinearMetricsModel::TensorNameRole).toString());
    });
    connect(strip_, &ModelErrorStrip::rowClicked, this, [this](int row) {
        const QModelIndex p = proxy_->mapFromSource(model_->index(row, 0));
        if (p.isValid()) {
            view_->setCurrentIndex(p);
            view_->scrollTo(p);
        } else {
            emit tensorActivated(model_->index(row, 0).data(LinearMetricsModel::TensorNameRole).toString());
        }
    });

    scanStatus_ = new QLabel(this);
    scanStatus_->setObjectName(QStringLiteral("metricsScanStatus"));
    auto* exportButton = new QPushButton(tr("Export CSV\u2026"), this);
    exportButton->setObjectName(QStringLiteral("metricsExportCsv"));
    connect(exportButton, &QPushButton::clicked, this,
            [this] { exportCsvWithDialog(*proxy_, this, QStringLiteral("layer-metrics.csv")); });

    auto* top = new QHBoxLayout;
    top->addWidget(filter_, 1);
    top->addWidget(scanStatus_);
    top->addWidget(exportButton);
    auto* stripRow = new QHBoxLayout;
    stripRow->addWidget(new QLabel(tr("Whole model, coloured by"), this));
    stripRow->addWidget(stripMethod_);
    stripRow->addWidget(strip_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addLayout(stripRow);
    layout->addWidget(view_, 1);

    connect(runner_, &JobRunner::progressed, this, [this](quint64, const QString&, double fraction, double) {
        scanStatus_->setText(tr("scanning weights %1%").arg(int(100 * fraction)));
    });
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        model_->setStats(std::any_cast<std::vector<LinearStats>>(r));
        scanStatus_->setText(tr("%1 linears").arg(model_->rowCount()));
        view_->resizeColumnsToContents();
        view_->horizontalHeader()->setSectionResizeMode(LinearMetricsModel::NameColumn, QHeaderView::Stretch);
        emit statsScanned();
    });
    connect(runner_, &JobRunner::failed, this,
            [this](quint64, const QString& message) { scanStatus_->setText(tr("scan failed: %1").arg(message)); });
}

bool MetricsPanel::isScanning() const { return runner_->isRunning(); }

void MetricsPanel::setModel(ModelPtr model)
{
    runner_->cancel();
    model_->setLinears(model ? findLinears(*model) : std::vector<LinearEntry>{});
    scanStatus_->setText(model_->rowCount() ? tr("%1 linears").arg(model_->rowCount()) : tr("no linears"));
    view_->resizeColumnsToContents();
    view_->horizontalHeader()->setSectionResizeMode(LinearMetricsModel::NameColumn, QHeaderView::Stretch);
    if (!model || model_->rowCount() == 0)
        return;
    auto linears = model_->linears();
    runner_->start(tr("scan linears"), [model, linears](JobContext& job) -> JobResult {
        return scanLinears(*model->checkpoint, linears, job.progress());
    });
}

bool MetricsPanel::exportCsv(const QString& file) const { return writeCsv(*proxy_, file); }

void MetricsPanel::refreshMethodCombo()
{
    const QString current = stripMethod_->currentData().toString();
    QSignalBlocker block(stripMethod_);
    stripMethod_->clear();
    stripMethod_->addItem(tr("weight kurtosis"), QString());
    for (const QString& m : model_->methods())
        stripMethod_->addItem(tr("%1 error").arg(m), m);
    // After a run, show the newest results: the last method unless the user chose one.
    int pick = stripMethod_->findData(current);
    if (pick <= 0 && !model_->methods().isEmpty())
        pick = stripMethod_->count() - 1;
    stripMethod_->setCurrentIndex(std::max(0, pick));
    strip_->setMethod(stripMethod_->currentData().toString());
}

} // namespace qs::ui
