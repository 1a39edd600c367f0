#include "ui/metrics/model_error_strip.hpp"

#include "ui/metrics/linear_metrics_model.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

// Blue -> yellow -> red over t in [0, 1].
QColor heat(double t)
{
    t = std::clamp(t, 0.0, 1.0);
    const QColor a(40, 90, 200), b(245, 215, 60), c(210, 35, 35);
    const auto mix = [](const QColor& x, const QColor& y, double u) {
        return QColor::fromRgbF(float(x.redF() + (y.redF() - x.redF()) * u), float(x.greenF() + (y.greenF() - x.greenF()) * u),
                                float(x.blueF() + (y.blueF() - x.blueF()) * u));
    };
    return t < 0.5 ? mix(a, b, t * 2) : mix(b, c, (t - 0.5) * 2);
}

} // namespace

ModelErrorStrip::ModelErrorStrip(LinearMetricsModel* model, QWidget* parent) : QWidget(parent), model_(model)
{
    setObjectName(QStringLiteral("modelErrorStrip"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    const auto refresh = [this] {
        updateRange();
        update();
    };
    connect(model_, &QAbstractItemModel::modelReset, this, refresh);
    connect(model_, &QAbstractItemModel::dataChanged, this, refresh);
    connect(model_, &LinearMetricsModel::errorsChanged, this, [this] {
        if (!method_.isEmpty() && model_->methodColumn(method_) < 0)
            method_.clear();
        updateRange();
        update();
    });
}

void ModelErrorStrip::setMethod(const QString& method)
{
    method_ = method;
    updateRange();
    update();
}

int ModelErrorStrip::cellCount() const { return model_->rowCount(); }

QSize ModelErrorStrip::sizeHint() const { return {600, 30}; }
QSize ModelErrorStrip::minimumSizeHint() const { return {100, 30}; }

double ModelErrorStrip::valueAt(int row) const
{
    if (method_.isEmpty()) {
        const QVariant k = model_->index(row, LinearMetricsModel::KurtosisColumn).data(LinearMetricsModel::SortRole);
        return k.toDouble() > 0 ? k.toDouble() : std::nan("");
    }
    return model_->error(row, int(model_->methods().indexOf(method_)));
}

void ModelErrorStrip::updateRange()
{
    lo_ = INFINITY;
    hi_ = -INFINITY;
    for (int r = 0; r < cellCount(); ++r) {
        const double v = valueAt(r);
        if (std::isnan(v) || v <= 0)
            continue;
        lo_ = std::min(lo_, std::log(v));
        hi_ = std::max(hi_, std::log(v));
    }
}

QColor ModelErrorStrip::cellColor(int row) const
{
    const double v = valueAt(row);
    if (std::isnan(v) || v <= 0 || !std::isfinite(lo_))
        return palette().color(QPalette::Mid);
    return heat(hi_ > lo_ ? (std::log(v) - lo_) / (hi_ - lo_) : 0.5);
}

int ModelErrorStrip::rowAt(int x) const
{
    const int n = cellCount();
    if (n == 0 || width() <= 0)
        return -1;
    return std::clamp(int(double(x) * n / width()), 0, n - 1);
}

void ModelErrorStrip::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const int n = cellCount();
    const int h = height() - 12;
    if (n == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("no linears"));
        return;
    }
    const double w = double(width()) / n;
    for (int r = 0; r < n; ++r)
        p.fillRect(QRectF(r * w, 0, std::max(1.0, w), h), cellColor(r));
    // Block boundaries and block numbers underneath.
    QFont f = font();
    f.setPointSizeF(7);
    p.setFont(f);
    const auto& linears = model_->linears();
    int lastBlock = -1;
    for (int r = 0; r < n; ++r) {
        const int block = linears[std::size_t(r)].block;
        if (block == lastBlock)
            continue;
        lastBlock = block;
        p.setPen(QPen(palette().color(QPalette::Window), 2));
        if (r > 0)
            p.drawLine(QPointF(r * w, 0), QPointF(r * w, h));
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QPointF(r * w + 2, height() - 1), QString::number(block));
    }
}

void ModelErrorStrip::mousePressEvent(QMouseEvent* event)
{
    const int row = rowAt(int(event->position().x()));
    if (row >= 0)
        emit rowClicked(row);
}

bool ModelErrorStrip::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int row = rowAt(help->pos().x());
        if (row < 0)
            return true;
        const double v = valueAt(row);
        const QString what = method_.isEmpty() ? tr("kurtosis") : tr("%1 error").arg(method_);
        QToolTip::showText(help->globalPos(),
                           QStringLiteral("%1\n%2: %3")
                               .arg(QString::fromStdString(model_->linears()[std::size_t(row)].tensorName), what,
                                    std::isnan(v) ? tr("unknown") : QString::number(v, 'g', 4)),
                           this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace qs::ui
