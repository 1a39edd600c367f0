#include "ui/logging/app_logging.hpp"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace qs::ui {

namespace {

class RelaySink : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        QString line = QString::fromUtf8(formatted.data(), static_cast<qsizetype>(formatted.size()));
        while (line.endsWith(QLatin1Char('\n')) || line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        emit logRelay()->messageLogged(static_cast<int>(msg.level), line);
    }
    void flush_() override {}
};

constexpr std::size_t kMaxFileBytes = 5 * 1024 * 1024;
constexpr std::size_t kMaxFiles = 3;

} // namespace

LogRelay* logRelay()
{
    // Never destroyed: spdlog's registry may still log during static destruction.
    static auto* relay = new LogRelay;
    return relay;
}

QString logFilePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/logs/quantscope.log");
}

QString setupLogging()
{
    std::vector<spdlog::sink_ptr> sinks;
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());

    QString path = logFilePath();
    try {
        QDir().mkpath(QFileInfo(path).absolutePath());
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path.toStdString(), kMaxFileBytes,
                                                                               kMaxFiles));
    } catch (const std::exception& e) {
        spdlog::warn("no log file at {}: {}", path.toStdString(), e.what());
        path.clear();
    }

    auto relay = std::make_shared<RelaySink>();
    relay->set_pattern("%H:%M:%S.%e %-5l %v"); // the dock is narrow: no date, no logger name
    sinks.push_back(relay);

    auto logger = std::make_shared<spdlog::logger>("quantscope", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(2));
    if (!path.isEmpty())
        spdlog::info("logging to {}", path.toStdString());
    return path;
}

} // namespace qs::ui
