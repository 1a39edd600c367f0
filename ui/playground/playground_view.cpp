#include "ui/playground/playground_view.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/io/tokenizer.hpp"
#include "ui/jobs/job_runner.hpp"
#include "ui/playground/generation_pane.hpp"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <cmath>

namespace qs::ui {

namespace {

struct SideResult {
    GenerationStats stats;
};

enum Outcome { Running = 0, Done = 1, FailedOutcome = 2, CancelledOutcome = 3 };

QString sideName(PlaygroundView::Side side)
{
    return side == PlaygroundView::Original ? QStringLiteral("original") : QStringLiteral("quantized");
}

} // namespace

PlaygroundView::PlaygroundView(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("playgroundView"));
    runners_[Original] = new JobRunner(QStringLiteral("Playground original"), this);
    runners_[Quantized] = new JobRunner(QStringLiteral("Playground quantized"), this);
    panes_[Original] = new GenerationPane(QStringLiteral("originalPane"), tr("Original (f32)"), this);
    panes_[Quantized] = new GenerationPane(QStringLiteral("quantizedPane"), tr("Quantized"), this);

    prompt_ = new QPlainTextEdit(this);
    prompt_->setObjectName(QStringLiteral("promptEdit"));
    prompt_->setPlaceholderText(tr("Prompt"));
    prompt_->setMaximumHeight(4 * fontMetrics().lineSpacing() + 12);
    method_ = new QComboBox(this);
    method_->setObjectName(QStringLiteral("playgroundMethodCombo"));
    const std::pair<const char*, QString> methods[] = {{"rtn", tr("RTN")},   {"absmax", tr("Absmax INT8")},
                                                       {"smoothquant", tr("SmoothQuant W8A8")},
                                                       {"gptq", tr("GPTQ")}, {"awq", tr("AWQ")},
                                                       {"nf4", tr("NF4")}};
    for (const auto& [name, label] : methods)
        method_->addItem(label, QString::fromLatin1(name));
    bits_ = new QSpinBox(this);
    bits_->setObjectName(QStringLiteral("playgroundBitsSpin"));
    bits_->setRange(2, 8);
    bits_->setToolTip(tr("RTN, GPTQ and AWQ; Absmax and SmoothQuant are 8-bit, NF4 is 4-bit"));
    group_ = new QComboBox(this);
    group_->setObjectName(QStringLiteral("playgroundGroupCombo"));
    for (int g : {32, 64, 128, 256})
        group_->addItem(QString::number(g), g);
    group_->addItem(tr("per channel"), 0);
    preset_ = new QComboBox(this);
    preset_->setObjectName(QStringLiteral("playgroundPresetCombo"));
    preset_->setToolTip(tr("Calibration for GPTQ, AWQ and SmoothQuant"));
    for (const char* p : {"tiny", "quick", "standard"}) {
        const auto& cp = calib::calibrationPreset(p);
        preset_->addItem(tr("%1 (%2 \u00d7 %3)").arg(QLatin1String(p)).arg(cp.samples).arg(cp.length), QString::fromLatin1(p));
    }
    maxTokens_ = new QSpinBox(this);
    maxTokens_->setObjectName(QStringLiteral("maxTokensSpin"));
    maxTokens_->setRange(1, 4096);
    temperature_ = new QDoubleSpinBox(this);
    temperature_->setObjectName(QStringLiteral("temperatureSpin"));
    temperature_->setRange(0.0, 2.0);
    temperature_->setSingleStep(0.1);
    temperature_->setSpecialValueText(tr("greedy"));
    topP_ = new QDoubleSpinBox(this);
    topP_->setObjectName(QStringLiteral("topPSpin"));
    topP_->setRange(0.05, 1.0);
    topP_->setSingleStep(0.05);
    seed_ = new QSpinBox(this);
    seed_->setObjectName(QStringLiteral("seedSpin"));
    seed_->setRange(0, 1 << 30);
    generate_ = new QPushButton(tr("Generate"), this);
    generate_->setObjectName(QStringLiteral("generateButton"));
    generate_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName(QStringLiteral("playgroundCancelButton"));

    auto* controls = new QGridLayout;
    auto addPair = [controls](int row, int col, const QString& label, QWidget* w) {
        controls->addWidget(new QLabel(label), row, col);
        controls->addWidget(w, row, col + 1);
    };
    addPair(0, 0, tr("Method"), method_);
    addPair(0, 2, tr("Bits"), bits_);
    addPair(0, 4, tr("Group"), group_);
    addPair(0, 6, tr("Calibration"), preset_);
    addPair(1, 0, tr("Max tokens"), maxTokens_);
    addPair(1, 2, tr("Temperature"), temperature_);
    addPair(1, 4, tr("Top-p"), topP_);
    addPair(1, 6, tr("Seed"), seed_);
    controls->setColumnStretch(8, 1);
    controls->addWidget(generate_, 0, 9);
    controls->addWidget(cancel_, 1, 9);

    auto* panes = new QSplitter(Qt::Horizontal, this);
    panes->setObjectName(QStringLiteral("playgroundPanes"));
    panes->addWidget(panes_[Original]);
    panes->addWidget(panes_[Quantized]);
    panes->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(prompt_);
    layout->addLayout(controls);
    layout->addWidget(panes, 1);

    connect(generate_, &QPushButton::clicked, this, &PlaygroundView::generate);
    connect(cancel_, &QPushButton::clicked, this, &PlaygroundView::cancel);
    for (Side side : {Original, Quantized}) {
        JobRunner* r = runners_[side];
        connect(r, &JobRunner::progressed, this, [this, side](quint64, const QString& stage, double f, double) {
            if (stage != QLatin1String("generating")) // while generating the pane shows tokens/s
                panes_[side]->showStatus(QStringLiteral("%1 \u00b7 %2%").arg(stage).arg(int(std::lround(100 * f))));
        });
        connect(r, &JobRunner::succeeded, this, [this, side](quint64, const JobResult& result) {
            const auto& s = std::any_cast<const SideResult&>(result).stats;
            panes_[side]->finish(QString::fromStdString(s.text), s.tokens, s.seconds);
            onSideDone(side, Done, {});
        });
        connect(r, &JobRunner::failed, this, [this, side](quint64, const QString& message) {
            panes_[side]->showStatus(tr("Failed: %1").arg(message));
            onSideDone(side, FailedOutcome, message);
        });
        connect(r, &JobRunner::cancelled, this, [this, side](quint64) {
            panes_[side]->showStatus(tr("Cancelled after %1 tokens").arg(panes_[side]->tokenCount()));
            onSideDone(side, CancelledOutcome, {});
        });
    }
    connect(method_, &QComboBox::currentIndexChanged, this, [this] {
        const QString m = method_->currentData().toString();
        const bool grid = m == QLatin1String("rtn") || m == QLatin1String("gptq") || m == QLatin1String("awq");
        bits_->setEnabled(grid);
        group_->setEnabled(grid);
        preset_->setEnabled(m == QLatin1String("gptq") || m == QLatin1String("awq") || m == QLatin1String("smoothquant"));
    });

    setSettings(PlaygroundSettings{});
    updateButtons();
}

PlaygroundView::~PlaygroundView()
{
    // The runners cancel and wait for their workers; after that nothing posts to this object.
    delete runners_[Original];
    delete runners_[Quantized];
}

void PlaygroundView::setModel(ModelPtr model)
{
    cancel();
    ++run_; // whatever is still on its way belongs to the old model
    model_ = std::move(model);
    cache_[Original] = {};
    cache_[Quantized] = {};
    for (GenerationPane* p : panes_) {
        p->start({});
        p->showStatus(tr("Idle"));
    }
    updateButtons();
}

PlaygroundSettings PlaygroundView::settings() const
{
    PlaygroundSettings s;
    s.prompt = prompt_->toPlainText().toStdString();
    s.method = method_->currentData().toString().toStdString();
    s.bits = bits_->value();
    s.groupSize = group_->currentData().toInt();
    s.calibrationPreset = preset_->currentData().toString().toStdString();
    s.maxTokens = maxTokens_->value();
    s.temperature = float(temperature_->value());
    s.topP = float(topP_->value());
    s.seed = std::uint64_t(seed_->value());
    return s;
}

void PlaygroundView::setSettings(const PlaygroundSettings& s)
{
    prompt_->setPlainText(QString::fromStdString(s.prompt));
    method_->setCurrentIndex(std::max(0, method_->findData(QString::fromStdString(s.method))));
    bits_->setValue(s.bits);
    group_->setCurrentIndex(std::max(0, group_->findData(s.groupSize)));
    preset_->setCurrentIndex(std::max(0, preset_->findData(QString::fromStdString(s.calibrationPreset))));
    maxTokens_->setValue(s.maxTokens);
    temperature_->setValue(s.temperature);
    topP_->setValue(s.topP);
    seed_->setValue(int(std::min<std::uint64_t>(s.seed, std::uint64_t(seed_->maximum()))));
}

bool PlaygroundView::isRunning() const { return busy_[Original] || busy_[Quantized]; }

QString PlaygroundView::quantizedTitle(const PlaygroundSettings& s) const
{
    return tr("Quantized: %1").arg(QString::fromStdString(s.quantConfig().describe()));
}

void PlaygroundView::generate()
{
    if (!model_ || !model_->tokenizer)
        return;
    const PlaygroundSettings s = settings();
    if (s.prompt.empty())
        return;
    ++run_;
    failure_.clear();
    panes_[Quantized]->setTitle(quantizedTitle(s));
    spdlog::info("playground: '{}' through the original and {} ({} tokens, temperature {}, top-p {}, seed {})",
                 s.prompt, s.quantConfig().describe(), s.maxTokens, s.temperature, s.topP, s.seed);
    startSide(Original, s);
    startSide(Quantized, s);
    updateButtons();
}

void PlaygroundView::startSide(Side side, const PlaygroundSettings& s)
{
    const std::string key = side == Original ? std::string() : s.quantConfig().describe() + " / " + s.calibrationPreset;
    const TransformerPtr cached = cache_[side].transformer && cache_[side].key == key ? cache_[side].transformer : nullptr;
    panes_[side]->start(QString::fromStdString(s.prompt));
    outcome_[side] = Running;
    busy_[side] = true;
    const quint64 run = run_;
    runners_[side]->start(tr("playground %1").arg(sideName(side)),
                          [this, run, side, key, cached, s, model = model_](JobContext& job) -> JobResult {
        jobs::Progress& progress = job.progress();
        TransformerPtr t = cached;
        if (!t) {
            t = side == Original ? loadOriginalTransformer(*model, progress)
                                 : quantizeTransformer(*model, s.quantConfig(), s.calibrationPreset, progress);
            const Prepared p{t, key};
            QMetaObject::invokeMethod(this, [this, run, side, p] { onPrepared(run, side, p); }, Qt::QueuedConnection);
        }
        auto sink = [this, run, side](const std::string& delta, int tokens, double seconds) {
            QMetaObject::invokeMethod(this, [this, run, side, d = QString::fromStdString(delta), tokens, seconds] {
                onText(run, side, d, tokens, seconds);
            }, Qt::QueuedConnection);
        };
        return SideResult{streamGeneration(*t, *model->tokenizer, s.prompt, s.sampling(), sink, progress)};
    });
}

void PlaygroundView::onPrepared(quint64 run, Side side, const Prepared& p)
{
    if (run == run_)
        cache_[side] = p; // kept even when the generation is cancelled later
}

void PlaygroundView::onText(quint64 run, Side side, const QString& delta, int tokens, double seconds)
{
    if (run == run_ && busy_[side])
        panes_[side]->appendText(delta, tokens, seconds);
}

void PlaygroundView::onSideDone(Side side, int outcome, const QString& message)
{
    busy_[side] = false;
    outcome_[side] = outcome;
    if (outcome == FailedOutcome && failure_.isEmpty())
        failure_ = message;
    updateButtons();
    if (isRunning())
        return;
    if (outcome_[Original] == CancelledOutcome || outcome_[Quantized] == CancelledOutcome)
        emit generationCancelled();
    else if (!failure_.isEmpty())
        emit generationFailed(failure_);
    else
        emit generationFinished();
}

void PlaygroundView::cancel()
{
    for (JobRunner* r : runners_)
        r->cancel();
}

void PlaygroundView::updateButtons()
{
    const bool ready = model_ && model_->spec.supported && model_->tokenizer;
    generate_->setEnabled(ready && !isRunning());
    cancel_->setEnabled(isRunning());
}

} // namespace qs::ui
