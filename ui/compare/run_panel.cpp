#include "ui/compare/run_panel.hpp"

#include "core/calib/calibration_set.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace qs::ui {

QString formatTimeLeft(double seconds)
{
    if (seconds < 0 || !std::isfinite(seconds))
        return {};
    const int s = int(std::lround(seconds));
    if (s < 60)
        return QObject::tr("%1 s left").arg(s);
    return QObject::tr("%1 min %2 s left").arg(s / 60).arg(s % 60);
}

RunPanel::RunPanel(QWidget* parent) : QWidget(parent)
{
    qRegisterMetaType<qs::ui::CompareSettings>("qs::ui::CompareSettings");
    setObjectName(QStringLiteral("runPanel"));

    auto* methodsBox = new QGroupBox(tr("Methods"), this);
    auto* methodsLayout = new QVBoxLayout(methodsBox);
    const std::pair<const char*, QString> methodLabels[] = {
        {"rtn", tr("RTN (round to nearest)")}, {"absmax", tr("Absmax INT8")}, {"smoothquant", tr("SmoothQuant W8A8")},
        {"gptq", tr("GPTQ")},                  {"awq", tr("AWQ")},            {"nf4", tr("NF4 (double quant)")}};
    for (const auto& [name, label] : methodLabels) {
        auto* box = new QCheckBox(label, methodsBox);
        box->setObjectName(QStringLiteral("method_%1").arg(QLatin1String(name)));
        box->setChecked(std::string(name) == "rtn");
        connect(box, &QCheckBox::toggled, this, &RunPanel::updateRunEnabled);
        methodsLayout->addWidget(box);
        methods_[name] = box;
    }

    auto* settingsBox = new QGroupBox(tr("Settings"), this);
    auto* form = new QFormLayout(settingsBox);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint); // a narrow panel, wide results
    bits_ = new QSpinBox(settingsBox);
    bits_->setObjectName(QStringLiteral("bitsSpin"));
    bits_->setRange(2, 8);
    bits_->setToolTip(tr("RTN, GPTQ and AWQ; Absmax and SmoothQuant are 8-bit, NF4 is 4-bit"));
    group_ = new QComboBox(settingsBox);
    group_->setObjectName(QStringLiteral("groupCombo"));
    for (int g : {32, 64, 128, 256})
        group_->addItem(QString::number(g), g);
    group_->addItem(tr("per channel"), 0);
    alpha_ = new QDoubleSpinBox(settingsBox);
    alpha_->setObjectName(QStringLiteral("alphaSpin"));
    alpha_->setRange(0.0, 1.0);
    alpha_->setSingleStep(0.05);
    alpha_->setToolTip(tr("SmoothQuant migration strength (0.8-0.85 for the Llama family)"));
    damp_ = new QDoubleSpinBox(settingsBox);
    damp_->setObjectName(QStringLiteral("dampSpin"));
    damp_->setDecimals(3);
    damp_->setRange(0.001, 1.0);
    damp_->setSingleStep(0.005);
    damp_->setToolTip(tr("GPTQ dampening, fraction of the mean Hessian diagonal"));
    actOrder_ = new QCheckBox(tr("act-order (GPTQ)"), settingsBox);
    actOrder_->setObjectName(QStringLiteral("actOrderCheck"));
    awqClip_ = new QCheckBox(tr("clip search (AWQ)"), settingsBox);
    awqClip_->setObjectName(QStringLiteral("awqClipCheck"));
    awqClip_->setToolTip(tr("AWQ's search for a clipping range per group (20-point grid, not for q and k)"));
    calibText_ = new QLineEdit(settingsBox);
    calibText_->setObjectName(QStringLiteral("calibTextEdit"));
    calibText_->setPlaceholderText(tr("demo text"));
    calibText_->setToolTip(tr("Calibration text (UTF-8); empty: the demo model's calibration.txt"));
    auto* browse = new QToolButton(settingsBox);
    browse->setText(QStringLiteral("\u2026"));
    browse->setToolTip(tr("Choose a calibration text file"));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Calibration text"), calibText_->text(),
                                                       tr("Text files (*.txt);;All files (*)"));
        if (!f.isEmpty())
            calibText_->setText(f);
    });
    auto* calibRow = new QHBoxLayout;
    calibRow->setContentsMargins(0, 0, 0, 0);
    calibRow->addWidget(calibText_);
    calibRow->addWidget(browse);
    preset_ = new QComboBox(settingsBox);
    preset_->setObjectName(QStringLiteral("presetCombo"));
    for (const char* p : {"tiny", "quick", "standard"}) {
        const auto& cp = calib::calibrationPreset(p);
        preset_->addItem(tr("%1 (%2 \u00d7 %3 tokens)").arg(QLatin1String(p)).arg(cp.samples).arg(cp.length),
                         QString::fromLatin1(p));
    }
    evalWindows_ = new QSpinBox(settingsBox);
    evalWindows_->setObjectName(QStringLiteral("evalWindowsSpin"));
    evalWindows_->setRange(1, 512);
    evalContext_ = new QSpinBox(settingsBox);
    evalContext_->setObjectName(QStringLiteral("evalContextSpin"));
    evalContext_->setRange(16, 4096);
    evalContext_->setSingleStep(64);
    gpu_ = new QCheckBox(tr("use the GPU (Vulkan) when present"), settingsBox);
    gpu_->setObjectName(QStringLiteral("gpuCheck"));
    form->addRow(tr("Bits"), bits_);
    form->addRow(tr("Group size"), group_);
    form->addRow(tr("Alpha"), alpha_);
    form->addRow(tr("Damp"), damp_);
    form->addRow(QString(), actOrder_);
    form->addRow(QString(), awqClip_);
    form->addRow(tr("Calibration"), preset_);
    form->addRow(tr("Calib. text"), calibRow);
    form->addRow(tr("Eval windows"), evalWindows_);
    form->addRow(tr("Eval context"), evalContext_);
    form->addRow(QString(), gpu_);

    run_ = new QPushButton(tr("Run"), this);
    run_->setObjectName(QStringLiteral("runButton"));
    run_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    connect(run_, &QPushButton::clicked, this, [this] { emit runRequested(settings()); });
    connect(cancel_, &QPushButton::clicked, this, &RunPanel::cancelRequested);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(run_);
    buttons->addWidget(cancel_);

    stage_ = new QLabel(tr("Idle"), this);
    stage_->setObjectName(QStringLiteral("runStage"));
    stage_->setWordWrap(true);
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("runProgress"));
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    eta_ = new QLabel(this);
    eta_->setObjectName(QStringLiteral("runEta"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(methodsBox);
    layout->addWidget(settingsBox);
    layout->addLayout(buttons);
    layout->addWidget(stage_);
    layout->addWidget(progress_);
    layout->addWidget(eta_);
    layout->addStretch(1);

    setSettings(CompareSettings{});
    setRunning(false);
}

CompareSettings RunPanel::settings() const
{
    CompareSettings s;
    s.methods.clear();
    for (const char* name : {"rtn", "absmax", "smoothquant", "gptq", "awq", "nf4"})
        if (methods_.at(name)->isChecked())
            s.methods.emplace_back(name);
    s.bits = bits_->value();
    s.groupSize = group_->currentData().toInt();
    s.alpha = float(alpha_->value());
    s.damp = float(damp_->value());
    s.actOrder = actOrder_->isChecked();
    s.awqClip = awqClip_->isChecked();
    s.calibrationText = calibText_->text().trimmed().toStdString();
    s.calibrationPreset = preset_->currentData().toString().toStdString();
    s.evalWindows = evalWindows_->value();
    s.evalContext = evalContext_->value();
    s.preferGpu = gpu_->isChecked();
    return s;
}

void RunPanel::setSettings(const CompareSettings& s)
{
    for (auto& [name, box] : methods_)
        box->setChecked(std::find(s.methods.begin(), s.methods.end(), name) != s.methods.end());
    bits_->setValue(s.bits);
    group_->setCurrentIndex(std::max(0, group_->findData(s.groupSize)));
    alpha_->setValue(s.alpha);
    damp_->setValue(s.damp);
    actOrder_->setChecked(s.actOrder);
    awqClip_->setChecked(s.awqClip);
    calibText_->setText(QString::fromStdString(s.calibrationText));
    preset_->setCurrentIndex(std::max(0, preset_->findData(QString::fromStdString(s.calibrationPreset))));
    evalWindows_->setValue(s.evalWindows);
    evalContext_->setValue(s.evalContext);
    gpu_->setChecked(s.preferGpu);
}

void RunPanel::setRunning(bool running)
{
    running_ = running;
    cancel_->setEnabled(running);
    for (QWidget* w : findChildren<QGroupBox*>())
        w->setEnabled(!running);
    if (running) {
        progress_->setValue(0);
        stage_->setText(tr("Starting\u2026"));
        eta_->clear();
    }
    updateRunEnabled();
}

void RunPanel::setModelReady(bool ready)
{
    modelReady_ = ready;
    updateRunEnabled();
}

void RunPanel::updateRunEnabled()
{
    bool any = false;
    for (const auto& [name, box] : methods_)
        any = any || box->isChecked();
    run_->setEnabled(!running_ && modelReady_ && any);
}

void RunPanel::showProgress(const QString& stage, double fraction, double etaSeconds)
{
    stage_->setText(stage);
    progress_->setValue(int(std::lround(1000 * std::clamp(fraction, 0.0, 1.0))));
    eta_->setText(formatTimeLeft(etaSeconds));
}

void RunPanel::showOutcome(const QString& message)
{
    stage_->setText(message);
    progress_->setValue(0);
    eta_->clear();
}

} // namespace qs::ui
