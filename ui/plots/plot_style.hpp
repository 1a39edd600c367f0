#pragma once
// Shared look and export of the QCustomPlot views: one font and margin style, and a context
// menu that saves any plot as PNG or PDF.
#include <QString>

class QCustomPlot;
class QWidget;

namespace qs::ui {

// Small fonts, no grid clutter, interactive zoom/drag on both axes.
void stylePlot(QCustomPlot* plot);
void setPlotTitle(QCustomPlot* plot, const QString& title); // one title row above the axes

// Saves by the file's suffix: .pdf through savePdf, anything else through savePng (2x scale).
bool savePlot(QCustomPlot* plot, const QString& file);
// Right-click menu on the plot: "Save as PNG…", "Save as PDF…", "Reset view".
void addPlotExportMenu(QCustomPlot* plot);

} // namespace qs::ui
