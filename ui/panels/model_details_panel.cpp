#include "ui/panels/model_details_panel.hpp"

#include "core/io/tokenizer.hpp"
#include "ui/text/number_format.hpp"

#include <QFileInfo>

#include <algorithm>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QVBoxLayout>

namespace qs::ui {

namespace {

constexpr auto kDash = "\u2014";

QString orDash(std::int64_t v) { return v > 0 ? formatExact(v) : QString::fromUtf8(kDash); }

QString countWithExact(std::int64_t n) { return QStringLiteral("%1 (%2)").arg(formatCount(n), formatExact(n)); }

QString tokenizerText(const model::Model& m)
{
    if (m.tokenizer) {
        const bool byteLevel = m.tokenizer->spec().kind == io::TokenizerSpec::Kind::ByteLevel;
        return QObject::tr("%1 BPE, %2 tokens")
            .arg(byteLevel ? QObject::tr("byte-level") : QObject::tr("sentencepiece-style"),
                 formatExact(static_cast<std::int64_t>(m.tokenizer->vocabSize())));
    }
    if (!m.tokenizerError.empty())
        return QObject::tr("not loaded: %1").arg(QString::fromStdString(m.tokenizerError));
    return QObject::tr("none shipped");
}

QLabel* placeholder(const QString& text, const QString& objectName)
{
    auto* l = new QLabel(text);
    l->setObjectName(objectName);
    l->setWordWrap(true);
    l->setEnabled(false); // greyed: it is a hint, not data
    return l;
}

} // namespace

ModelDetailsPanel::ModelDetailsPanel(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("modelDetailsPanel"));
    auto* layout = new QVBoxLayout(this);

    summaryBox_ = new QGroupBox(tr("Model"), this);
    summaryBox_->setObjectName(QStringLiteral("modelSummaryBox"));
    auto* summaryLayout = new QVBoxLayout(summaryBox_);
    summaryPlaceholder_ = placeholder(
        tr("No model open. Use File \u25b8 Open Folder\u2026, File \u25b8 Open Demo Model, or drop a model folder "
           "or a .gguf / .safetensors file onto this window."),
        QStringLiteral("summaryPlaceholder"));
    summaryLayout->addWidget(summaryPlaceholder_);
    summaryRows_ = new QWidget(summaryBox_);
    auto* form = new QFormLayout(summaryRows_);
    form->setContentsMargins(0, 0, 0, 0);
    source_ = addRow(form, tr("Source"), QStringLiteral("summarySource"));
    format_ = addRow(form, tr("Format"), QStringLiteral("summaryFormat"));
    architecture_ = addRow(form, tr("Architecture"), QStringLiteral("summaryArchitecture"));
    status_ = addRow(form, tr("Status"), QStringLiteral("summaryStatus"));
    parameters_ = addRow(form, tr("Parameters"), QStringLiteral("summaryParameters"));
    size_ = addRow(form, tr("Size"), QStringLiteral("summarySize"));
    layers_ = addRow(form, tr("Layers"), QStringLiteral("summaryLayers"));
    heads_ = addRow(form, tr("Heads / KV heads"), QStringLiteral("summaryHeads"));
    hidden_ = addRow(form, tr("Hidden / MLP"), QStringLiteral("summaryHidden"));
    vocab_ = addRow(form, tr("Vocabulary"), QStringLiteral("summaryVocab"));
    context_ = addRow(form, tr("Context"), QStringLiteral("summaryContext"));
    dtype_ = addRow(form, tr("Weights dtype"), QStringLiteral("summaryDtype"));
    tokenizer_ = addRow(form, tr("Tokenizer"), QStringLiteral("summaryTokenizer"));
    summaryLayout->addWidget(summaryRows_);
    layout->addWidget(summaryBox_);

    selectionBox_ = new QGroupBox(tr("Selection"), this);
    selectionBox_->setObjectName(QStringLiteral("selectionBox"));
    auto* selectionLayout = new QVBoxLayout(selectionBox_);
    selectionPlaceholder_ = placeholder(tr("Select a tensor or a group in the layer tree."),
                                        QStringLiteral("selectionPlaceholder"));
    selectionLayout->addWidget(selectionPlaceholder_);
    selectionRows_ = new QWidget(selectionBox_);
    auto* tform = new QFormLayout(selectionRows_);
    tform->setContentsMargins(0, 0, 0, 0);
    tensorName_ = addRow(tform, tr("Name"), QStringLiteral("tensorName"));
    tensorShape_ = addRow(tform, tr("Shape"), QStringLiteral("tensorShape"));
    tensorDtype_ = addRow(tform, tr("DType"), QStringLiteral("tensorDtype"));
    tensorParams_ = addRow(tform, tr("Parameters"), QStringLiteral("tensorParams"));
    tensorBytes_ = addRow(tform, tr("Bytes"), QStringLiteral("tensorBytes"));
    tensorFile_ = addRow(tform, tr("File"), QStringLiteral("tensorFile"));
    tensorOffset_ = addRow(tform, tr("Offset"), QStringLiteral("tensorOffset"));
    selectionLayout->addWidget(selectionRows_);
    layout->addWidget(selectionBox_);
    layout->addStretch(1);

    showModel(nullptr);
}

QLabel* ModelDetailsPanel::addRow(QFormLayout* form, const QString& title, const QString& objectName)
{
    auto* value = new QLabel(QString::fromUtf8(kDash));
    value->setObjectName(objectName);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    form->addRow(title + QLatin1Char(':'), value);
    return value;
}

void ModelDetailsPanel::showModel(const model::Model* m)
{
    clearSelection();
    summaryPlaceholder_->setVisible(!m);
    summaryRows_->setVisible(m != nullptr);
    if (!m || !m->checkpoint)
        return;
    const auto& ck = *m->checkpoint;
    const auto& s = m->spec;

    const QString source = QString::fromStdString(m->source.string());
    source_->setText(source);
    source_->setToolTip(source);

    std::vector<std::string> files;
    for (const auto& t : ck.tensors())
        if (std::find(files.begin(), files.end(), t.file) == files.end())
            files.push_back(t.file);
    format_->setText(tr("%1, %2 tensors in %3 file(s)")
                         .arg(QString::fromStdString(ck.format()))
                         .arg(ck.tensors().size())
                         .arg(files.size()));

    QString arch = QString::fromStdString(s.architecture.empty() ? std::string("unknown") : s.architecture);
    if (!s.modelType.empty() && s.modelType != s.architecture)
        arch += QStringLiteral(" (%1)").arg(QString::fromStdString(s.modelType));
    architecture_->setText(arch);

    if (s.supported) {
        status_->setText(tr("supported"));
        status_->setStyleSheet(QStringLiteral("color: #1e8449;"));
    } else {
        const std::string reason = s.unsupportedReason.empty() ? "not supported yet: " + s.architecture
                                                               : s.unsupportedReason;
        status_->setText(QString::fromStdString(reason));
        status_->setStyleSheet(QStringLiteral("color: #b9770e;"));
    }

    parameters_->setText(countWithExact(ck.totalParameters()));
    size_->setText(tr("%1 (%2 bytes)")
                       .arg(formatBytes(ck.totalBytes()), formatExact(static_cast<std::int64_t>(ck.totalBytes()))));
    layers_->setText(orDash(s.numLayers));
    QString heads = orDash(s.numHeads);
    if (s.numKvHeads > 0)
        heads += QStringLiteral(" / %1").arg(formatExact(s.numKvHeads));
    if (s.headDim > 0)
        heads += tr(" (head dim %1)").arg(s.headDim);
    heads_->setText(heads);
    hidden_->setText(QStringLiteral("%1 / %2").arg(orDash(s.hiddenSize), orDash(s.intermediateSize)));
    vocab_->setText(orDash(s.vocabSize));
    QString context = orDash(s.maxPositionEmbeddings);
    if (s.ropeScaling && s.ropeScaling->type != "default")
        context += tr(" (rope scaling %1 \u00d7%2)")
                       .arg(QString::fromStdString(s.ropeScaling->type))
                       .arg(s.ropeScaling->factor);
    context_->setText(context);
    QString dtype = s.torchDtype.empty() ? QString::fromUtf8(kDash) : QString::fromStdString(s.torchDtype);
    if (s.tieWordEmbeddings)
        dtype += tr(", tied embeddings");
    dtype_->setText(dtype);
    tokenizer_->setText(tokenizerText(*m));
}

void ModelDetailsPanel::setSelectionRows(const QString& name, const QString& shape, const QString& dtype,
                                         const QString& params, const QString& bytes, const QString& file,
                                         const QString& offset)
{
    selectionPlaceholder_->setVisible(false);
    selectionRows_->setVisible(true);
    tensorName_->setText(name);
    tensorShape_->setText(shape);
    tensorDtype_->setText(dtype);
    tensorParams_->setText(params);
    tensorBytes_->setText(bytes);
    tensorFile_->setText(file);
    tensorOffset_->setText(offset);
}

void ModelDetailsPanel::showTensor(const io::TensorInfo& t)
{
    selectionBox_->setTitle(tr("Tensor"));
    const QString file = QString::fromStdString(t.file);
    setSelectionRows(QString::fromStdString(t.name), QString::fromStdString(shapeToString(t.shape)),
                     QString::fromStdString(t.dtype), countWithExact(t.numel()),
                     tr("%1 (%2)").arg(formatBytes(t.nbytes), formatExact(static_cast<std::int64_t>(t.nbytes))),
                     QFileInfo(file).fileName(), formatExact(static_cast<std::int64_t>(t.offset)));
    tensorFile_->setToolTip(file);
}

void ModelDetailsPanel::showGroup(const QString& label, int tensorCount, std::int64_t params, std::uint64_t bytes,
                                  const QString& dtype)
{
    selectionBox_->setTitle(tr("Group"));
    const QString dash = QString::fromUtf8(kDash);
    setSelectionRows(tr("%1 (%2 tensors)").arg(label).arg(tensorCount), dash, dtype.isEmpty() ? dash : dtype,
                     countWithExact(params),
                     tr("%1 (%2)").arg(formatBytes(bytes), formatExact(static_cast<std::int64_t>(bytes))), dash, dash);
    tensorFile_->setToolTip({});
}

void ModelDetailsPanel::clearSelection()
{
    selectionBox_->setTitle(tr("Selection"));
    selectionPlaceholder_->setVisible(true);
    selectionRows_->setVisible(false);
}

} // namespace qs::ui
