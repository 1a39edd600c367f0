#include "ui/compare/layer_compare_plots.hpp"

#include "ui/compare/layer_compare_data.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

constexpr int kRoles = 7;

void logY(QCustomPlot* plot)
{
    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    plot->yAxis->setNumberFormat(QStringLiteral("gb")); // plain numbers where they fit, 10^k beyond
    plot->yAxis->setNumberPrecision(2);
}

QCPGraph* addCounts(QCustomPlot* plot, const std::vector<double>& edges, const std::vector<double>& counts,
                    const QColor& colour, const QString& name, bool fill)
{
    QCPGraph* g = plot->addGraph();
    g->setName(name);
    g->setLineStyle(QCPGraph::lsStepCenter);
    g->setPen(QPen(colour, 1.2));
    if (fill)
        g->setBrush(QColor(colour.red(), colour.green(), colour.blue(), 70));
    QVector<double> x, y;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        x.push_back(0.5 * (edges[i] + edges[i + 1]));
        y.push_back(counts[i] > 0 ? counts[i] : qQNaN()); // a log axis has no 0: a gap
    }
    g->setData(x, y, true);
    return g;
}

double maxCount(const std::vector<double>& v) { return v.empty() ? 1.0 : std::max(1.0, *std::max_element(v.begin(), v.end())); }

} // namespace

const QColor& methodColour(int index)
{
    static const QList<QColor> colours{QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                       QColor(255, 127, 14), QColor(148, 103, 189), QColor(140, 86, 75)};
    return colours[index % colours.size()];
}

void drawWeightPane(QCustomPlot* plot, const LayerComparison& c, const LayerComparePane& pane, const QColor& colour)
{
    plot->clearGraphs();
    logY(plot);
    addCounts(plot, c.weightEdges, c.originalCounts, QColor(0, 0, 0, 90), QObject::tr("W"), false);
    addCounts(plot, c.weightEdges, pane.weightCounts, colour, QObject::tr("W'"), true);
    plot->xAxis->setRange(c.weightEdges.front(), c.weightEdges.back());
    plot->yAxis->setRange(0.5, 2 * std::max(maxCount(pane.weightCounts), maxCount(c.originalCounts)));
    plot->xAxis->setLabel(QObject::tr("W'"));
    plot->replot();
}

void drawErrorPane(QCustomPlot* plot, const LayerComparison& c, const LayerComparePane& pane, const QColor& colour)
{
    plot->clearGraphs();
    logY(plot);
    addCounts(plot, c.errorEdges, pane.errorCounts, colour, QObject::tr("W' \u2212 W"), true);
    plot->xAxis->setRange(c.errorEdges.front(), c.errorEdges.back());
    plot->yAxis->setRange(0.5, 2 * maxCount(pane.errorCounts));
    plot->xAxis->setLabel(QObject::tr("W' \u2212 W"));
    plot->replot();
}

void drawScalePane(QCustomPlot* plot, const LayerComparePane& pane, const QColor& colour)
{
    plot->clearGraphs();
    plot->clearItems();
    logY(plot);
    plot->xAxis->setLabel(QObject::tr("row (groups within)"));
    plot->xAxis->ticker()->setTickCount(2); // row numbers are wide: 3 ticks ran into each other
    if (pane.scaleValues.empty()) {
        auto* text = new QCPItemText(plot);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setText(QObject::tr("no scales (%1)").arg(QString::fromStdString(pane.format)));
        text->setColor(Qt::gray);
        plot->replot();
        return;
    }
    QCPGraph* g = plot->addGraph();
    g->setName(QObject::tr("scale"));
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, 2.5));
    g->setData(QVector<double>(pane.scaleIndex.begin(), pane.scaleIndex.end()),
               QVector<double>(pane.scaleValues.begin(), pane.scaleValues.end()), true);
    bool found = false;
    const QCPRange y = g->getValueRange(found, QCP::sdPositive);
    plot->xAxis->setRange(-0.5, pane.scaleIndex.back() + 1);
    plot->yAxis->setRange(found ? y.lower / 1.5 : 1e-4, found ? y.upper * 1.5 : 1);
    plot->replot();
}

void linkAxes(const QList<QCustomPlot*>& plots)
{
    for (QCustomPlot* from : plots)
        for (QCustomPlot* to : plots) {
            if (from == to)
                continue;
            // setRange emits only on a change, so the links settle after one round.
            QObject::connect(from->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), to, [to](const QCPRange& r) {
                to->xAxis->setRange(r);
                to->replot(QCustomPlot::rpQueuedReplot);
            });
            QObject::connect(from->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), to, [to](const QCPRange& r) {
                to->yAxis->setRange(r);
                to->replot(QCustomPlot::rpQueuedReplot);
            });
        }
}

void drawModelErrors(QCustomPlot* plot, const CompareResults* results, int block, int role)
{
    plot->clearGraphs();
    plot->clearItems();
    logY(plot);
    double lo = INFINITY, hi = 0, maxX = kRoles - 1;
    int colour = 0;
    for (const auto& m : results ? results->methods : std::vector<MethodResult>{}) {
        if (!m.ok())
            continue;
        QCPGraph* g = plot->addGraph();
        g->setName(QString::fromStdString(m.method));
        g->setPen(QPen(methodColour(colour++), 1.4));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
        for (const auto& l : m.run.layers) {
            const double x = double(l.block * kRoles + int(l.role)), y = l.outputRelError;
            g->addData(x, y > 0 ? y : qQNaN());
            maxX = std::max(maxX, x);
            if (y > 0) {
                lo = std::min(lo, y);
                hi = std::max(hi, y);
            }
        }
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int b = 0; b <= int(maxX) / kRoles; ++b)
        ticker->addTick(b * kRoles, QStringLiteral("B%1").arg(b));
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setLabel(QObject::tr("linear in model order (block: q k v o gate up down)"));
    plot->yAxis->setLabel(QObject::tr("output rel. error"));
    plot->xAxis->setRange(-0.5, maxX + 0.5);
    plot->yAxis->setRange(std::isfinite(lo) ? lo / 1.5 : 1e-4, hi > 0 ? hi * 1.5 : 1);
    if (block >= 0) {
        auto* line = new QCPItemStraightLine(plot);
        line->setPen(QPen(QColor(0, 0, 0, 110), 1.0, Qt::DashLine));
        line->point1->setCoords(block * kRoles + role, 1);
        line->point2->setCoords(block * kRoles + role, 10);
    }
    plot->legend->setVisible(plot->graphCount() > 0);
    plot->replot();
}

} // namespace qs::ui
