#include "ui/inspector/inspector_plots.hpp"

#include "ui/inspector/tensor_analysis.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

const QString kOverlayLayer = QStringLiteral("overlay");

void removeOverlayItems(QCustomPlot* plot)
{
    for (int i = plot->itemCount() - 1; i >= 0; --i)
        if (plot->item(i)->property("gridOverlay").toBool() || plot->item(i)->property("clipOverlay").toBool())
            plot->removeItem(i);
}

} // namespace

void clearPlot(QCustomPlot* plot, const QString& message)
{
    plot->clearGraphs();
    plot->clearPlottables();
    plot->clearItems();
    plot->legend->setVisible(false);
    if (!message.isEmpty()) {
        auto* text = new QCPItemText(plot);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setText(message);
        text->setColor(Qt::gray);
    }
    plot->replot();
}

void drawHistogram(QCustomPlot* plot, const TensorAnalysis& a)
{
    plot->clearPlottables();
    plot->clearItems();
    const auto& h = a.stats.histogram;
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setObjectName(QStringLiteral("histogramBars"));
    bars->setName(QObject::tr("weights"));
    bars->setPen(Qt::NoPen);
    bars->setAntialiased(false);
    bars->setAntialiasedFill(false);
    bars->setBrush(QColor(70, 110, 170));
    QVector<double> keys, values;
    double maxCount = 1;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
        if (h.counts[i] == 0)
            continue;
        keys.push_back(0.5 * (h.edges[i] + h.edges[i + 1]));
        values.push_back(double(h.counts[i]));
        maxCount = std::max(maxCount, double(h.counts[i]));
    }
    const double width = h.counts.empty() ? 1.0 : (h.edges.back() - h.edges.front()) / double(h.counts.size());
    bars->setWidth(width > 0 ? width : 1.0);
    bars->setBaseValue(0.5);
    bars->setData(keys, values, true);

    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    plot->yAxis->setNumberFormat(QStringLiteral("eb"));
    plot->yAxis->setNumberPrecision(0);
    plot->yAxis->setLabel(QObject::tr("count"));
    plot->xAxis->setLabel(QObject::tr("weight value"));
    plot->yAxis->setRange(0.5, maxCount * 2.0);
    const double pad = std::max(width, 1e-12) * 2;
    plot->xAxis->setRange(h.edges.empty() ? -1 : h.edges.front() - pad, h.edges.empty() ? 1 : h.edges.back() + pad);
    plot->legend->setVisible(true);
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

QString drawGridOverlay(QCustomPlot* plot, const TensorAnalysis& a, GridOverlay overlay, int groupSize)
{
    removeOverlayItems(plot);
    std::vector<double> levels;
    QString label;
    QColor color;
    double clipLo = 0, clipHi = 0, clipped = 0;
    if (overlay == GridOverlay::Nf4) {
        levels = a.nf4Levels;
        clipLo = -a.nf4MedianBlockAbsmax;
        clipHi = a.nf4MedianBlockAbsmax;
        clipped = a.nf4ClippedFraction;
        color = QColor(200, 60, 40);
        label = QObject::tr("NF4 levels \u00d7 median block absmax %1 (blocks of 64)")
                    .arg(a.nf4MedianBlockAbsmax, 0, 'g', 4);
    } else if (overlay == GridOverlay::Int4) {
        if (const IntGridOverlay* g = a.int4Grid(groupSize)) {
            levels = g->levels;
            clipLo = g->clipLo;
            clipHi = g->clipHi;
            clipped = g->clippedFraction;
            color = QColor(30, 150, 70);
            label = QObject::tr("INT4 asym RTN grid, %1, median group scale %2")
                        .arg(g->groupSize > 0 ? QObject::tr("group %1").arg(g->groupSize) : QObject::tr("per channel"))
                        .arg(g->medianScale, 0, 'g', 4);
        }
    }
    QPen pen(color, 1.0, Qt::DashLine);
    for (double x : levels) {
        auto* line = new QCPItemStraightLine(plot);
        line->setProperty("gridOverlay", true);
        line->setPen(pen);
        line->point1->setCoords(x, 1);
        line->point2->setCoords(x, 10);
    }
    if (!levels.empty()) {
        // Clip thresholds: everything beyond them (shaded) would saturate at the median scale.
        // Bounded regions (a coordinate far outside the axis overflows the painter).
        const auto& edges = a.stats.histogram.edges;
        const double span = edges.empty() ? 1.0 : 4.0 * (edges.back() - edges.front()) + std::fabs(clipHi - clipLo);
        for (const auto& [from, to] : {std::pair{clipLo, clipLo - span}, std::pair{clipHi, clipHi + span}}) {
            auto* rect = new QCPItemRect(plot);
            rect->setProperty("clipOverlay", true);
            rect->setObjectName(QStringLiteral("clipRegion"));
            rect->setPen(QPen(color.darker(), 1.5));
            rect->setBrush(QColor(color.red(), color.green(), color.blue(), 45));
            rect->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
            rect->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
            rect->bottomRight->setTypeX(QCPItemPosition::ptPlotCoords);
            rect->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
            rect->topLeft->setCoords(std::min(from, to), 0);
            rect->bottomRight->setCoords(std::max(from, to), 1);
        }
        label += QObject::tr(" · clip at [%1, %2]: %3% of the weights beyond (shaded)")
                     .arg(clipLo, 0, 'g', 3)
                     .arg(clipHi, 0, 'g', 3)
                     .arg(100.0 * clipped, 0, 'g', 3);
        // Keep the whole grid in view: a wide grid shows how much of it the weights use.
        const QCPRange r = plot->xAxis->range();
        const auto [lo, hi] = std::minmax_element(levels.begin(), levels.end());
        plot->xAxis->setRange(std::min(r.lower, *lo * 1.05), std::max(r.upper, *hi * 1.05));
    }
    plot->replot();
    return label;
}

void drawChannelAbsmax(QCustomPlot* plot, const std::vector<double>& values, const std::vector<int>& outliers,
                       double threshold, const QString& xLabel)
{
    plot->clearGraphs();
    plot->clearItems();
    QVector<double> x(qsizetype(values.size())), y(qsizetype(values.size()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        x[qsizetype(i)] = double(i);
        y[qsizetype(i)] = values[i];
    }
    QCPGraph* line = plot->addGraph();
    line->setName(QObject::tr("absmax"));
    line->setPen(QPen(QColor(70, 110, 170), 1.0));
    line->setData(x, y, true);
    QCPGraph* marks = plot->addGraph();
    marks->setName(QObject::tr("outliers (%1)").arg(outliers.size()));
    marks->setLineStyle(QCPGraph::lsNone);
    marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(210, 40, 40), 6));
    QVector<double> ox, oy;
    for (int i : outliers) {
        ox.push_back(double(i));
        oy.push_back(values[std::size_t(i)]);
    }
    marks->setData(ox, oy, true);
    auto* limit = new QCPItemStraightLine(plot);
    limit->setPen(QPen(QColor(210, 40, 40, 150), 1.0, Qt::DashLine));
    limit->point1->setCoords(0, threshold);
    limit->point2->setCoords(1, threshold);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(QObject::tr("|w| max"));
    const double top = values.empty() ? 1.0 : *std::max_element(values.begin(), values.end());
    plot->xAxis->setRange(-0.5, std::max<double>(1.0, double(values.size()) - 0.5));
    plot->yAxis->setRange(0, std::max(top, threshold) * 1.08);
    plot->legend->setVisible(true);
    // Channel maxima sit high on the axis: the legend goes where the data is not.
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    plot->replot();
}

} // namespace qs::ui
