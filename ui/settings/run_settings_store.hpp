#pragma once
// The run panel's and the playground's settings in QSettings ("run/..." and "playground/..."),
// so that a restart comes back to the last methods, bits, group size, alpha, damp, act-order,
// calibration preset, evaluation windows, prompt and sampling options. Loading checks every
// value: anything missing, unknown or out of range falls back to the default.
#include "ui/compare/compare_settings.hpp"
#include "ui/playground/playground_settings.hpp"

class QSettings;

namespace qs::ui {

void saveCompareSettings(QSettings& store, const CompareSettings& s);
CompareSettings loadCompareSettings(const QSettings& store);

void savePlaygroundSettings(QSettings& store, const PlaygroundSettings& s);
PlaygroundSettings loadPlaygroundSettings(const QSettings& store);

} // namespace qs::ui
