#pragma once
// Drawing for the layer compare view (GUI thread, placing what the worker computed): histogram
// panes on a log count axis, scale panes, axis links across panes, and the per-layer error of
// the whole model with one line per method.
#include <QColor>
#include <QList>

#include <memory>
#include <vector>

class QCustomPlot;

namespace qs::ui {

struct CompareResults;
struct LayerComparePane;
struct LayerComparison;

const QColor& methodColour(int index);

// W' histogram (the original W faint behind it) and error histogram of one method.
void drawWeightPane(QCustomPlot* plot, const LayerComparison& c, const LayerComparePane& pane, const QColor& colour);
void drawErrorPane(QCustomPlot* plot, const LayerComparison& c, const LayerComparePane& pane, const QColor& colour);
void drawScalePane(QCustomPlot* plot, const LayerComparePane& pane, const QColor& colour);

// Keeps the x ranges of the plots equal, and the y ranges (QCPAxis::rangeChanged both ways).
void linkAxes(const QList<QCustomPlot*>& plots);

// Output error per linear in model order (x = block * 7 + role), log y, one line per method;
// a dashed line at the selected linear (block < 0: none).
void drawModelErrors(QCustomPlot* plot, const CompareResults* results, int block, int role);

} // namespace qs::ui
