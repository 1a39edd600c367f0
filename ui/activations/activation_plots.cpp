#include "ui/activations/activation_plots.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

const QColor kActivation(31, 119, 180), kMeanAbs(44, 160, 44), kWeight(255, 127, 14), kOutput(148, 103, 189);

void logY(QCustomPlot* plot, const QString& label)
{
    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    plot->yAxis->setNumberFormat(QStringLiteral("gb")); // plain numbers where they fit, 10^k beyond
    plot->yAxis->setNumberPrecision(2);
    plot->yAxis->setLabel(label);
}

QCPGraph* addLine(QCustomPlot* plot, const QString& name, const QColor& colour, const runtime::Vec& v, double width = 1.2)
{
    QCPGraph* g = plot->addGraph();
    g->setName(name);
    g->setPen(QPen(colour, width));
    QVector<double> x(int(v.size())), y(int(v.size()));
    for (int j = 0; j < int(v.size()); ++j) {
        x[j] = j;
        y[j] = std::max(double(v[j]), 1e-12); // a log axis has no 0
    }
    g->setData(x, y, true);
    return g;
}

// y range over every graph's positive values, with a margin on the log axis.
void fitLogY(QCustomPlot* plot)
{
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < plot->graphCount(); ++i)
        for (const auto& p : *plot->graph(i)->data())
            if (p.value > 0) {
                lo = std::min(lo, p.value);
                hi = std::max(hi, p.value);
            }
    plot->yAxis->setRange(std::isfinite(lo) ? lo / 2 : 1e-3, hi > 0 ? hi * 3 : 1);
}

void removeTagged(QCustomPlot* plot, const char* tag)
{
    for (int i = plot->itemCount() - 1; i >= 0; --i)
        if (plot->item(i)->property(tag).toBool())
            plot->removeItem(i);
}

} // namespace

void drawChannelProfile(QCustomPlot* plot, const analysis::InputSiteProfile& site, const analysis::OutlierChannels& outliers)
{
    plot->clearGraphs();
    plot->clearItems();
    logY(plot, QObject::tr("|x|"));
    plot->xAxis->setLabel(QObject::tr("input channel"));
    addLine(plot, QObject::tr("absmax"), kActivation, site.absmax);
    addLine(plot, QObject::tr("mean |x|"), kMeanAbs, site.meanAbs);
    QCPGraph* marks = plot->addGraph();
    marks->setName(QObject::tr("outliers (%1)").arg(outliers.channels.size()));
    marks->setLineStyle(QCPGraph::lsNone);
    marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::red, 1.5), Qt::NoBrush, 7));
    for (int j : outliers.channels)
        marks->addData(j, double(site.absmax[j]));
    auto* line = new QCPItemStraightLine(plot);
    line->setPen(QPen(QColor(200, 0, 0, 150), 1.0, Qt::DashLine));
    line->point1->setCoords(0, outliers.threshold);
    line->point2->setCoords(1, outliers.threshold);
    plot->xAxis->setRange(-0.5, double(site.absmax.size()) - 0.5);
    fitLogY(plot);
    plot->legend->setVisible(true);
    plot->replot();
}

void drawSmoothing(QCustomPlot* plot, const analysis::SmoothingPreview& p, const analysis::InputSiteProfile& site,
                   const analysis::LinearProfile& linear)
{
    plot->clearGraphs();
    logY(plot, QObject::tr("per-channel range"));
    plot->xAxis->setLabel(QObject::tr("input channel"));
    addLine(plot, QObject::tr("max|X| before"), QColor(31, 119, 180, 60), site.absmax, 1.0);
    addLine(plot, QObject::tr("max|W| before"), QColor(255, 127, 14, 60), linear.weightAbsmax, 1.0);
    addLine(plot, QObject::tr("max|X|/s"), kActivation, p.activationAbsmax);
    addLine(plot, QObject::tr("max|W|\u00b7s"), kWeight, p.weightAbsmax);
    plot->xAxis->setRange(-0.5, double(p.scales.size()) - 0.5);
    fitLogY(plot);
    plot->legend->setVisible(true);
    plot->replot(QCustomPlot::rpQueuedReplot); // a dragged slider: one repaint per event-loop turn
}

void drawAlphaSweep(QCustomPlot* plot, const std::vector<analysis::SmoothedInt8Error>& sweep, float alpha)
{
    plot->clearGraphs();
    logY(plot, QObject::tr("relative int8 error"));
    plot->xAxis->setLabel(QObject::tr("alpha"));
    struct Series {
        QString name;
        QColor colour;
        double analysis::SmoothedInt8Error::*field;
    };
    const Series series[] = {
        {QObject::tr("X per token"), kActivation, &analysis::SmoothedInt8Error::activationPerToken},
        {QObject::tr("X per tensor"), QColor(23, 190, 207), &analysis::SmoothedInt8Error::activationPerTensor},
        {QObject::tr("W per channel"), kWeight, &analysis::SmoothedInt8Error::weight},
        {QObject::tr("output XW\u1d40"), kOutput, &analysis::SmoothedInt8Error::output}};
    for (const auto& s : series) {
        QCPGraph* g = plot->addGraph();
        g->setName(s.name);
        g->setPen(QPen(s.colour, 1.5));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
        for (const auto& e : sweep)
            g->addData(double(e.alpha), std::max(e.*s.field, 1e-12));
    }
    plot->xAxis->setRange(-0.02, 1.02);
    fitLogY(plot);
    plot->legend->setVisible(true);
    markAlpha(plot, alpha);
}

void markAlpha(QCustomPlot* plot, float alpha)
{
    removeTagged(plot, "alphaMark");
    auto* line = new QCPItemStraightLine(plot);
    line->setProperty("alphaMark", true);
    line->setPen(QPen(QColor(0, 0, 0, 120), 1.0, Qt::DashLine));
    line->point1->setCoords(double(alpha), 1);
    line->point2->setCoords(double(alpha), 10);
    plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace qs::ui
