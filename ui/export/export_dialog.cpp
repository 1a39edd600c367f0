#include "ui/export/export_dialog.hpp"

#include "core/export/gguf_file_types.hpp"
#include "ui/export/export_job.hpp"
#include "ui/jobs/job_runner.hpp"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace qs::ui {

namespace {

template <typename T>
T* named(T* w, const char* name)
{
    w->setObjectName(QString::fromLatin1(name));
    return w;
}

QString sizeText(double bytes)
{
    return bytes >= 1e9 ? QString::number(bytes / 1e9, 'f', 2) + QStringLiteral(" GB")
                        : QString::number(bytes / 1e6, 'f', 2) + QStringLiteral(" MB");
}

} // namespace

ExportDialog::ExportDialog(std::shared_ptr<const model::Model> model, std::vector<quant::QuantConfig> methods,
                           std::string calibrationPreset, bool preferGpu, QWidget* parent)
    : QDialog(parent), model_(std::move(model)), methods_(std::move(methods)),
      calibrationPreset_(std::move(calibrationPreset)), preferGpu_(preferGpu),
      runner_(new JobRunner(QStringLiteral("Export"), this))
{
    setObjectName(QStringLiteral("exportDialog"));
    setWindowTitle(tr("Export Model"));

    method_ = named(new QComboBox(this), "exportMethod");
    method_->addItem(tr("none (original weights)"));
    for (const auto& c : methods_)
        method_->addItem(QString::fromStdString(c.describe()));
    format_ = named(new QComboBox(this), "exportFormat");
    for (const auto& f : exporting::exportFormatNames())
        format_->addItem(QString::fromStdString(f));
    type_ = named(new QComboBox(this), "exportGgufType");
    for (const auto& t : exporting::ggufFileTypeNames())
        type_->addItem(QString::fromStdString(t));
    type_->setCurrentText(QStringLiteral("Q4_K_M"));
    type_->setToolTip(tr("GGUF file type. Linears a method quantized to 4 bits in groups of 32 are written as "
                         "Q4_0/Q4_1 without requantizing; this type covers every other tensor."));
    path_ = named(new QLineEdit(this), "exportPath");
    path_->setPlaceholderText(tr("output file (GGUF) or folder (HF formats)"));
    browse_ = named(new QPushButton(tr("Browse\u2026"), this), "exportBrowse");
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse_);

    auto* form = new QFormLayout;
    form->addRow(tr("Method"), method_);
    form->addRow(tr("Format"), format_);
    form->addRow(tr("GGUF type"), type_);
    form->addRow(tr("Save to"), pathRow);

    progress_ = named(new QProgressBar(this), "exportProgress");
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    status_ = named(new QLabel(tr("Choose a target and press Export."), this), "exportStatus");
    status_->setWordWrap(true);
    notes_ = named(new QPlainTextEdit(this), "exportNotes");
    notes_->setReadOnly(true);
    notes_->setMaximumBlockCount(200);

    export_ = named(new QPushButton(tr("Export"), this), "exportStart");
    export_->setDefault(true);
    cancel_ = named(new QPushButton(tr("Cancel"), this), "exportCancel");
    auto* close = named(new QPushButton(tr("Close"), this), "exportClose");
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(export_);
    buttons->addWidget(cancel_);
    buttons->addWidget(close);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addWidget(notes_, 1);
    layout->addLayout(buttons);

    connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::updateForFormat);
    connect(path_, &QLineEdit::textChanged, this, [this] { setRunning(isExporting()); });
    connect(browse_, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(export_, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(cancel_, &QPushButton::clicked, runner_, &JobRunner::cancel);
    connect(close, &QPushButton::clicked, this, &ExportDialog::reject);

    connect(runner_, &JobRunner::progressed, this, [this](quint64, const QString& stage, double f, double) {
        progress_->setValue(int(1000 * f));
        status_->setText(stage);
    });
    connect(runner_, &JobRunner::succeeded, this, [this](quint64, const JobResult& r) {
        const auto res = std::any_cast<std::shared_ptr<const exporting::ExportResult>>(r);
        result_ = *res;
        progress_->setValue(1000);
        status_->setText(tr("Wrote %1 (%2, %3 tensors) in %4 s; verified %5 tensors, worst max|a-b|/max|a| %6.")
                             .arg(QString::fromStdString(res->path.string()), sizeText(double(res->bytes)))
                             .arg(res->tensors)
                             .arg(res->seconds, 0, 'f', 1)
                             .arg(res->tensorsVerified)
                             .arg(res->maxVerifyError, 0, 'g', 3));
        for (const auto& n : res->notes)
            notes_->appendPlainText(QString::fromStdString(n));
        setRunning(false);
        emit exportFinished(true);
    });
    connect(runner_, &JobRunner::failed, this, [this](quint64, const QString& message) {
        status_->setText(tr("Failed: %1").arg(message));
        setRunning(false);
        emit exportFinished(false);
    });
    connect(runner_, &JobRunner::cancelled, this, [this](quint64) {
        progress_->setValue(0);
        status_->setText(tr("Cancelled: nothing was written."));
        setRunning(false);
        emit exportFinished(false);
    });
    updateForFormat();
    setRunning(false);
}

ExportDialog::~ExportDialog() = default;

bool ExportDialog::isExporting() const
{
    return runner_->isRunning();
}

void ExportDialog::setRunning(bool running)
{
    for (QWidget* w : {static_cast<QWidget*>(method_), static_cast<QWidget*>(format_), static_cast<QWidget*>(path_),
                       static_cast<QWidget*>(browse_)})
        w->setEnabled(!running);
    type_->setEnabled(!running && format_->currentText() == QStringLiteral("gguf"));
    export_->setEnabled(!running && !path_->text().trimmed().isEmpty() && model_ && model_->spec.supported);
    cancel_->setEnabled(running);
}

void ExportDialog::updateForFormat()
{
    const bool gguf = format_->currentText() == QStringLiteral("gguf");
    type_->setEnabled(gguf && !isExporting());
    const QString p = path_->text();
    if (!p.isEmpty() && gguf != p.endsWith(QStringLiteral(".gguf"))) {
        const QFileInfo info(p);
        const QString base = info.completeBaseName().isEmpty() ? info.fileName() : info.completeBaseName();
        path_->setText(info.dir().filePath(gguf ? base + QStringLiteral(".gguf") : base));
    }
}

void ExportDialog::browse()
{
    const QString dir = QSettings().value(QStringLiteral("lastExportDir")).toString();
    const bool gguf = format_->currentText() == QStringLiteral("gguf");
    const QString file = QFileDialog::getSaveFileName(this, tr("Export Model"), dir,
                                                      gguf ? tr("GGUF (*.gguf)") : tr("Folder (*)"));
    if (file.isEmpty())
        return;
    QSettings().setValue(QStringLiteral("lastExportDir"), QFileInfo(file).absolutePath());
    path_->setText(file);
}

void ExportDialog::startExport()
{
    if (!model_ || isExporting())
        return;
    ExportJobSettings s;
    const int m = method_->currentIndex();
    if (m > 0)
        s.method = methods_[std::size_t(m - 1)];
    s.calibrationPreset = calibrationPreset_;
    s.preferGpu = preferGpu_;
    s.format = exporting::parseExportFormat(format_->currentText().toStdString());
    s.ggufType = type_->currentText().toStdString();
    s.output = path_->text().trimmed().toStdString();
    notes_->clear();
    result_.reset();
    progress_->setValue(0);
    status_->setText(tr("Starting\u2026"));
    auto model = model_;
    runner_->start(QStringLiteral("export"), [model, s](JobContext& ctx) -> JobResult {
        return std::shared_ptr<const exporting::ExportResult>(
            std::make_shared<exporting::ExportResult>(runExportJob(*model, s, ctx.progress())));
    });
    setRunning(true);
}

void ExportDialog::reject()
{
    if (isExporting()) {
        runner_->cancel();
        return; // the cancelled signal re-enables Close; a second Close then closes
    }
    QDialog::reject();
}

} // namespace qs::ui
