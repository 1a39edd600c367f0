#pragma once
// Opens models off the GUI thread: qs::model::openModel runs on a worker QThread and the
// result comes back through queued signals. Only the newest request is reported, so opening
// a second model while the first is still loading never shows the first one late.
#include "core/model/model.hpp"

#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

namespace qs::ui {

using ModelPtr = std::shared_ptr<const model::Model>;

class ModelLoader : public QObject {
    Q_OBJECT
public:
    explicit ModelLoader(QObject* parent = nullptr);
    ~ModelLoader() override; // waits for an open in flight: opening reads headers only

    // spec: "demo", a folder or file path, or a Hugging Face repo id ("org/name").
    void open(const QString& spec);
    bool isBusy() const { return pending_ != 0; }

signals:
    void started(const QString& spec);
    void loaded(const QString& spec, qs::ui::ModelPtr model, double elapsedMs);
    void failed(const QString& spec, const QString& message);

    // Internal: carries a request to the worker thread.
    void requestOpen(quint64 requestId, const QString& spec);

private:
    void onOpened(quint64 requestId, const QString& spec, qs::ui::ModelPtr model, double elapsedMs);
    void onFailed(quint64 requestId, const QString& spec, const QString& message);

    QThread thread_;
    quint64 lastRequest_ = 0;
    int pending_ = 0;
};

// Lives on the loader's thread; does the blocking work.
class ModelOpenWorker : public QObject {
    Q_OBJECT
public:
    void open(quint64 requestId, const QString& spec);

signals:
    void opened(quint64 requestId, const QString& spec, qs::ui::ModelPtr model, double elapsedMs);
    void failed(quint64 requestId, const QString& spec, const QString& message);
};

} // namespace qs::ui

Q_DECLARE_METATYPE(qs::ui::ModelPtr)
