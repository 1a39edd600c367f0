// quantscope: the desktop app. Argument parsing and start-up only; the window lives in ui/.
//   quantscope [MODEL] [--select TENSOR] [--view TAB] [--run-compare METHODS [--preset P]]
//              [--calibrate PRESET] [--heatmap error|scales:METHOD] [--generate] [--hf-cache]
//              [--screenshot FILE]
#include "ui/activations/activation_inspector.hpp"
#include "ui/compare/layer_compare_view.hpp"
#include "ui/compare/run_panel.hpp"
#include "ui/hfcache/hf_cache_dialog.hpp"
#include "ui/inspector/heatmap_panel.hpp"
#include "ui/inspector/tensor_inspector.hpp"
#include "ui/logging/app_logging.hpp"
#include "ui/metrics/metrics_panel.hpp"
#include "ui/playground/playground_view.hpp"
#include "ui/status/compute_status.hpp"
#include "ui/windows/analysis_tabs.hpp"
#include "ui/windows/main_window.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QPainter>
#include <QPointer>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <cstdio>

namespace {

struct StartupActions {
    QString select;       // tensor to select
    int view = -1;        // AnalysisTabs::Tab to show
    QStringList compare;  // methods to run once the model is open
    QString preset;       // calibration preset for that run
    QString calibrate;    // activation-profile preset to run once the model is open
    QString heatmap;      // "error:gptq" / "scales:gptq": the inspector's heatmap after the run
    bool playground = false; // --view playground (a tab the main window adds)
    bool generate = false;   // run the playground's prompt once the model is open
    bool hfCache = false;    // show the Hugging Face cache dialog
};

QPointer<qs::ui::HfCacheDialog> hfCacheDialog; // the one --hf-cache opened

int tabIndex(const QString& name)
{
    const QStringList names{QStringLiteral("details"), QStringLiteral("inspector"), QStringLiteral("metrics"),
                            QStringLiteral("compare"), QStringLiteral("activations"),
                            QStringLiteral("layer-compare")};
    return int(names.indexOf(name.toLower()));
}

// Selects, switches the tab and starts the compare run asked for on the command line.
void applyStartupActions(qs::ui::MainWindow& window, const StartupActions& a)
{
    if (!a.select.isEmpty() && !window.selectTensor(a.select))
        spdlog::warn("--select: no tensor named '{}'", a.select.toStdString());
    auto* tabs = window.analysisTabs();
    if (a.view >= 0)
        tabs->setCurrentIndex(a.view);
    if (a.playground)
        tabs->setCurrentWidget(window.playground());
    if (a.generate)
        window.playground()->generate();
    if (a.hfCache)
        hfCacheDialog = window.openHfCacheDialog();
    if (!a.calibrate.isEmpty()) {
        qs::ui::ActivationRunSettings s;
        s.preset = a.calibrate.toStdString();
        tabs->activations()->startCalibration(s);
    }
    if (!a.heatmap.isEmpty()) {
        const QString kind = a.heatmap.section(QLatin1Char(':'), 0, 0), method = a.heatmap.section(QLatin1Char(':'), 1);
        QObject::connect(tabs, &qs::ui::AnalysisTabs::runFinished, tabs, [tabs, kind, method] {
            const auto k = kind == QLatin1String("scales") ? qs::ui::HeatmapKind::Scales : qs::ui::HeatmapKind::Error;
            if (!tabs->inspector()->heatmapPanel()->setMode(k, method))
                spdlog::warn("--heatmap: no {} heatmap for {}", kind.toStdString(), method.toStdString());
        }, Qt::SingleShotConnection);
    }
    if (!a.compare.isEmpty()) {
        qs::ui::CompareSettings s = tabs->runPanel()->settings();
        s.methods.clear();
        for (const QString& m : a.compare)
            s.methods.push_back(m.trimmed().toStdString());
        if (!a.preset.isEmpty())
            s.calibrationPreset = a.preset.toStdString();
        tabs->runPanel()->setSettings(s);
        tabs->startCompare(s);
    }
}

// Every background job of the window is done: what a screenshot must wait for.
bool windowIsIdle(qs::ui::MainWindow& window)
{
    auto* tabs = window.analysisTabs();
    return !tabs->isRunning() && !tabs->inspector()->isBusy() && !tabs->metrics()->isScanning() &&
           !tabs->activations()->isBusy() && !tabs->layerCompare()->isBusy() && !window.playground()->isRunning() &&
           !window.computeStatus()->isProbing() && !(hfCacheDialog && hfCacheDialog->isScanning());
}

// The window, with the dialog --hf-cache opened drawn over its centre as a window manager would.
QPixmap grabWindow(qs::ui::MainWindow& window)
{
    QPixmap shot = window.grab();
    if (hfCacheDialog && hfCacheDialog->isVisible()) {
        const QPixmap dialog = hfCacheDialog->grab();
        QPainter p(&shot);
        const QPoint at((shot.width() - dialog.width()) / 2, (shot.height() - dialog.height()) / 2);
        p.fillRect(QRect(at - QPoint(1, 1), dialog.size() + QSize(2, 2)), Qt::darkGray);
        p.drawPixmap(at, dialog);
    }
    return shot;
}

// Saves the window once the model is in and every job it started is done (or at once when no
// model was asked for), then quits with 0, or 1 when the model failed to open or the image
// could not be written.
void arrangeScreenshot(qs::ui::MainWindow& window, const QString& file, const StartupActions& actions,
                       bool waitForModel)
{
    auto shoot = [&window, file] {
        auto* poll = new QTimer(&window);
        poll->setInterval(100);
        QObject::connect(poll, &QTimer::timeout, &window, [&window, file, poll] {
            if (!windowIsIdle(window))
                return;
            poll->stop();
            poll->deleteLater();
        // Let layouts, plots and the tree settle before grabbing.
        QTimer::singleShot(300, &window, [&window, file] {
            QDir().mkpath(QFileInfo(file).absolutePath());
            const bool ok = grabWindow(window).save(file);
            if (ok)
                spdlog::info("screenshot saved to {}", file.toStdString());
            else
                spdlog::error("cannot write screenshot {}", file.toStdString());
            QCoreApplication::exit(ok ? 0 : 1);
        });
        });
        poll->start();
    };
    if (!waitForModel) {
        shoot();
        return;
    }
    QObject::connect(&window, &qs::ui::MainWindow::modelOpened, &window, [&window, actions, shoot] {
        applyStartupActions(window, actions);
        shoot();
    });
    QObject::connect(&window, &qs::ui::MainWindow::modelOpenFailed, &window, [] {
        QTimer::singleShot(0, [] { QCoreApplication::exit(1); });
    });
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("QuantScope"));
    QCoreApplication::setApplicationName(QStringLiteral("QuantScope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(QS_VERSION));
    QGuiApplication::setDesktopFileName(QStringLiteral("quantscope"));
    // The installed hicolor icon (X11 window icon; Wayland uses the desktop file name).
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("quantscope")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("QuantScope: inspect and quantize LLM checkpoints."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("MODEL"),
                                 QStringLiteral("Model to open: \"demo\", a folder, a .safetensors or .gguf file, "
                                                "or a Hugging Face repo id in the local cache."),
                                 QStringLiteral("[MODEL]"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"), QStringLiteral("Save an image of the window to FILE once MODEL is open, then exit."),
        QStringLiteral("FILE"));
    const QCommandLineOption selectOption(QStringLiteral("select"),
                                          QStringLiteral("Select the tensor NAME in the layer tree once MODEL is open."),
                                          QStringLiteral("NAME"));
    const QCommandLineOption viewOption(QStringLiteral("view"),
                                        QStringLiteral("Show the tab TAB: details, inspector, metrics, compare, activations, "
                                                       "layer-compare or playground."),
                                        QStringLiteral("TAB"));
    const QCommandLineOption compareOption(
        QStringLiteral("run-compare"),
        QStringLiteral("Once MODEL is open, compare METHODS (comma-separated: rtn,absmax,smoothquant,gptq,awq,nf4)."),
        QStringLiteral("METHODS"));
    const QCommandLineOption presetOption(QStringLiteral("preset"),
                                          QStringLiteral("Calibration preset for --run-compare: tiny, quick, standard."),
                                          QStringLiteral("PRESET"));
    parser.addOption(screenshotOption);
    parser.addOption(selectOption);
    parser.addOption(viewOption);
    parser.addOption(compareOption);
    const QCommandLineOption calibrateOption(
        QStringLiteral("calibrate"),
        QStringLiteral("Once MODEL is open, run the activation profile with calibration preset PRESET (tiny, quick)."),
        QStringLiteral("PRESET"));
    parser.addOption(presetOption);
    parser.addOption(calibrateOption);
    const QCommandLineOption heatmapOption(
        QStringLiteral("heatmap"),
        QStringLiteral("After --run-compare, show the inspector's heatmap KIND:METHOD (error:gptq, scales:rtn)."),
        QStringLiteral("KIND:METHOD"));
    parser.addOption(heatmapOption);
    const QCommandLineOption generateOption(
        QStringLiteral("generate"), QStringLiteral("Once MODEL is open, run the playground's prompt (see --view playground)."));
    parser.addOption(generateOption);
    const QCommandLineOption hfCacheOption(
        QStringLiteral("hf-cache"), QStringLiteral("Show the Hugging Face cache browser once MODEL is open."));
    parser.addOption(hfCacheOption);
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    if (args.size() > 1) {
        std::fprintf(stderr, "quantscope: at most one MODEL argument, got %lld\n", static_cast<long long>(args.size()));
        return 2;
    }
    const QString model = args.value(0);
    const QString screenshot = parser.value(screenshotOption);
    StartupActions actions;
    actions.select = parser.value(selectOption);
    actions.playground = parser.value(viewOption).toLower() == QLatin1String("playground");
    if (parser.isSet(viewOption) && !actions.playground && (actions.view = tabIndex(parser.value(viewOption))) < 0) {
        std::fprintf(stderr, "quantscope: --view must be details, inspector, metrics, compare, activations, "
                             "layer-compare or playground\n");
        return 2;
    }
    actions.generate = parser.isSet(generateOption);
    actions.hfCache = parser.isSet(hfCacheOption);
    if (parser.isSet(compareOption))
        actions.compare = parser.value(compareOption).split(QLatin1Char(','), Qt::SkipEmptyParts);
    actions.preset = parser.value(presetOption);
    actions.calibrate = parser.value(calibrateOption);
    actions.heatmap = parser.value(heatmapOption);

    qs::ui::setupLogging();
    spdlog::info("QuantScope {} starting", QS_VERSION);

    qs::ui::MainWindow window;
    if (!screenshot.isEmpty()) {
        window.resize(1280, 800); // the same framing every time, whatever the saved geometry
        arrangeScreenshot(window, QFileInfo(screenshot).absoluteFilePath(), actions, !model.isEmpty());
    } else if (!model.isEmpty()) {
        QObject::connect(&window, &qs::ui::MainWindow::modelOpened, &window,
                         [&window, actions] { applyStartupActions(window, actions); }, Qt::SingleShotConnection);
    }
    window.show();
    if (!model.isEmpty())
        window.openModel(model);

    const int rc = app.exec();
    spdlog::info("QuantScope exiting ({})", rc);
    // No spdlog::shutdown() here: the window (destroyed after this) waits for its workers, and a
    // worker still running (the start-up compute probe) may log; flush instead.
    spdlog::default_logger()->flush();
    return rc;
}
