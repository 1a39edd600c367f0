#pragma once
// Drawing the activation inspector's plots from finished data (GUI thread: placing points the
// worker or an O(channels) preview produced, nothing more).
#include "core/analysis/smoothing_preview.hpp"

class QCustomPlot;

namespace qs::ui {

// Per-channel absmax and mean |x| of a linear's input (log y), outlier channels as red circles,
// the outlier threshold dashed.
void drawChannelProfile(QCustomPlot* plot, const analysis::InputSiteProfile& site,
                        const analysis::OutlierChannels& outliers);

// max|X_j| / s_j and max|W_:,j| * s_j after smoothing, with the unsmoothed ranges faint behind.
void drawSmoothing(QCustomPlot* plot, const analysis::SmoothingPreview& preview, const analysis::InputSiteProfile& site,
                   const analysis::LinearProfile& linear);

// Relative int8 errors over alpha (activations per token and per tensor, weights, output), log y;
// a dashed vertical line at the current alpha (moved by markAlpha).
void drawAlphaSweep(QCustomPlot* plot, const std::vector<analysis::SmoothedInt8Error>& sweep, float alpha);
void markAlpha(QCustomPlot* plot, float alpha);

} // namespace qs::ui
