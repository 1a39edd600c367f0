#pragma once
// The activation inspector's one-line explanations, built from its numbers.
#include "core/analysis/smoothing_preview.hpp"

#include <QString>

namespace qs::ui {

QString outlierNote(const analysis::InputSiteProfile& site, const analysis::OutlierChannels& outliers);
QString smoothingRangeNote(const analysis::SmoothingPreview& p, const analysis::InputSiteProfile& site,
                           const analysis::LinearProfile& linear);
QString int8ErrorNote(const analysis::SmoothedInt8Error& e, int rows);

} // namespace qs::ui
