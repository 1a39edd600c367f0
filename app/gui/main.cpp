// quantscope: the desktop app. Argument parsing and start-up only; the window lives in ui/.
//   quantscope [MODEL] [--select TENSOR] [--screenshot FILE]
#include "ui/logging/app_logging.hpp"
#include "ui/windows/main_window.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <cstdio>

namespace {

// Saves the window once the model is in (or at once when no model was asked for), then quits
// with 0, or 1 when the model failed to open or the image could not be written.
void arrangeScreenshot(qs::ui::MainWindow& window, const QString& file, const QString& select, bool waitForModel)
{
    auto shoot = [&window, file] {
        // Let layouts and the tree settle before grabbing.
        QTimer::singleShot(300, &window, [&window, file] {
            QDir().mkpath(QFileInfo(file).absolutePath());
            const bool ok = window.grab().save(file);
            if (ok)
                spdlog::info("screenshot saved to {}", file.toStdString());
            else
                spdlog::error("cannot write screenshot {}", file.toStdString());
            QCoreApplication::exit(ok ? 0 : 1);
        });
    };
    if (!waitForModel) {
        shoot();
        return;
    }
    QObject::connect(&window, &qs::ui::MainWindow::modelOpened, &window, [&window, select, shoot] {
        if (!select.isEmpty() && !window.selectTensor(select))
            spdlog::warn("--select: no tensor named '{}'", select.toStdString());
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
    parser.addOption(screenshotOption);
    parser.addOption(selectOption);
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    if (args.size() > 1) {
        std::fprintf(stderr, "quantscope: at most one MODEL argument, got %lld\n", static_cast<long long>(args.size()));
        return 2;
    }
    const QString model = args.value(0);
    const QString screenshot = parser.value(screenshotOption);

    qs::ui::setupLogging();
    spdlog::info("QuantScope {} starting", QS_VERSION);

    qs::ui::MainWindow window;
    if (!screenshot.isEmpty()) {
        window.resize(1280, 800); // the same framing every time, whatever the saved geometry
        arrangeScreenshot(window, QFileInfo(screenshot).absoluteFilePath(), parser.value(selectOption),
                          !model.isEmpty());
    } else if (parser.isSet(selectOption) && !model.isEmpty()) {
        const QString select = parser.value(selectOption);
        QObject::connect(&window, &qs::ui::MainWindow::modelOpened, &window,
                         [&window, select] { window.selectTensor(select); });
    }
    window.show();
    if (!model.isEmpty())
        window.openModel(model);

    const int rc = app.exec();
    spdlog::info("QuantScope exiting ({})", rc);
    spdlog::shutdown();
    return rc;
}
