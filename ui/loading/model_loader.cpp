#include "ui/loading/model_loader.hpp"

#include "ui/text/number_format.hpp"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <spdlog/spdlog.h>

namespace qs::ui {

ModelLoader::ModelLoader(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<qs::ui::ModelPtr>("qs::ui::ModelPtr");
    thread_.setObjectName(QStringLiteral("ModelLoader"));
    auto* worker = new ModelOpenWorker;
    worker->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker, &QObject::deleteLater);
    connect(this, &ModelLoader::requestOpen, worker, &ModelOpenWorker::open, Qt::QueuedConnection);
    connect(worker, &ModelOpenWorker::opened, this, &ModelLoader::onOpened, Qt::QueuedConnection);
    connect(worker, &ModelOpenWorker::failed, this, &ModelLoader::onFailed, Qt::QueuedConnection);
    thread_.start();
}

ModelLoader::~ModelLoader()
{
    thread_.quit();
    thread_.wait();
}

void ModelLoader::open(const QString& spec)
{
    ++pending_;
    const quint64 id = ++lastRequest_;
    spdlog::info("opening model '{}'", spec.toStdString());
    emit started(spec);
    emit requestOpen(id, spec);
}

void ModelLoader::onOpened(quint64 requestId, const QString& spec, ModelPtr model, double elapsedMs)
{
    --pending_;
    if (requestId != lastRequest_)
        return; // superseded by a newer request
    const auto& ck = *model->checkpoint;
    spdlog::info("opened '{}' ({}, {} tensors, {}) in {:.1f} ms: {}", spec.toStdString(), ck.format(),
                 ck.tensors().size(), formatBytes(ck.totalBytes()).toStdString(), elapsedMs,
                 model->spec.supported ? model->spec.architecture : model->spec.unsupportedReason);
    emit loaded(spec, std::move(model), elapsedMs);
}

void ModelLoader::onFailed(quint64 requestId, const QString& spec, const QString& message)
{
    --pending_;
    spdlog::error("cannot open model: {}", message.toStdString()); // core messages name the file
    if (requestId != lastRequest_)
        return;
    emit failed(spec, message);
}

void ModelOpenWorker::open(quint64 requestId, const QString& spec)
{
    // The point of this class: the GUI thread never blocks on a file system or a parser.
    Q_ASSERT(QThread::currentThread() != QCoreApplication::instance()->thread());
    QElapsedTimer timer;
    timer.start();
    try {
        auto model = std::make_shared<model::Model>(model::openModel(spec.toStdString()));
        if (!model->checkpoint)
            throw std::runtime_error("no checkpoint was opened");
        emit opened(requestId, spec, std::move(model), static_cast<double>(timer.nsecsElapsed()) / 1e6);
    } catch (const std::exception& e) {
        emit failed(requestId, spec, QString::fromUtf8(e.what()).simplified());
    } catch (...) {
        emit failed(requestId, spec, tr("unknown error"));
    }
}

} // namespace qs::ui
