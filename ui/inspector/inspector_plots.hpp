#pragma once
// Drawing the tensor inspector's plots from a finished TensorAnalysis (GUI thread; no
// computing beyond placing what the worker produced).
#include <QString>

#include <vector>

class QCustomPlot;

namespace qs::ui {

struct TensorAnalysis;

enum class GridOverlay { None, Nf4, Int4 };

// Histogram as QCPBars (pen and antialiasing off) on a log count axis; empty bins are left out
// (a log axis has no 0), so the bars' values still sum to the number of finite values.
void drawHistogram(QCustomPlot* plot, const TensorAnalysis& a);
// Vertical lines of the chosen grid over the histogram; returns the legend text (what scale).
QString drawGridOverlay(QCustomPlot* plot, const TensorAnalysis& a, GridOverlay overlay, int groupSize);
// Channel absmax as a line, outliers as red circles, the outlier threshold dashed.
void drawChannelAbsmax(QCustomPlot* plot, const std::vector<double>& values, const std::vector<int>& outliers,
                       double threshold, const QString& xLabel);
void clearPlot(QCustomPlot* plot, const QString& message);

} // namespace qs::ui
