#include "ui/settings/run_settings_store.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/quant/method.hpp"

#include <QSettings>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

bool isMethod(const std::string& name)
{
    const auto& all = quant::methodNames();
    return std::find(all.begin(), all.end(), name) != all.end();
}

bool isPreset(const std::string& name)
{
    for (const auto& p : calib::calibrationPresets())
        if (name == p.name)
            return true;
    return false;
}

int intIn(const QSettings& s, const QString& key, int lo, int hi, int fallback)
{
    bool ok = false;
    const int v = s.value(key).toInt(&ok);
    return ok && v >= lo && v <= hi ? v : fallback;
}

float floatIn(const QSettings& s, const QString& key, double lo, double hi, float fallback)
{
    bool ok = false;
    const double v = s.value(key).toDouble(&ok);
    return ok && std::isfinite(v) && v >= lo && v <= hi ? float(v) : fallback;
}

bool boolOr(const QSettings& s, const QString& key, bool fallback)
{
    const QVariant v = s.value(key);
    return v.isValid() ? v.toBool() : fallback;
}

std::string presetOr(const QSettings& s, const QString& key, const std::string& fallback)
{
    const std::string p = s.value(key).toString().toStdString();
    return isPreset(p) ? p : fallback;
}

int groupIn(const QSettings& s, const QString& key, int fallback)
{
    const int g = intIn(s, key, 0, 4096, -1);
    return g == 0 || g == 32 || g == 64 || g == 128 || g == 256 ? g : fallback;
}

} // namespace

void saveCompareSettings(QSettings& store, const CompareSettings& s)
{
    QStringList methods;
    for (const auto& m : s.methods)
        methods << QString::fromStdString(m);
    store.setValue(QStringLiteral("run/methods"), methods);
    store.setValue(QStringLiteral("run/bits"), s.bits);
    store.setValue(QStringLiteral("run/groupSize"), s.groupSize);
    store.setValue(QStringLiteral("run/alpha"), double(s.alpha));
    store.setValue(QStringLiteral("run/damp"), double(s.damp));
    store.setValue(QStringLiteral("run/actOrder"), s.actOrder);
    store.setValue(QStringLiteral("run/awqClip"), s.awqClip);
    store.setValue(QStringLiteral("run/calibrationText"), QString::fromStdString(s.calibrationText));
    store.setValue(QStringLiteral("run/calibrationPreset"), QString::fromStdString(s.calibrationPreset));
    store.setValue(QStringLiteral("run/evalWindows"), s.evalWindows);
    store.setValue(QStringLiteral("run/evalContext"), s.evalContext);
    store.setValue(QStringLiteral("run/preferGpu"), s.preferGpu);
}

CompareSettings loadCompareSettings(const QSettings& store)
{
    const CompareSettings d;
    CompareSettings s;
    if (store.contains(QStringLiteral("run/methods"))) {
        s.methods.clear();
        for (const QString& m : store.value(QStringLiteral("run/methods")).toStringList())
            if (isMethod(m.toStdString()) && std::find(s.methods.begin(), s.methods.end(), m.toStdString()) == s.methods.end())
                s.methods.push_back(m.toStdString());
        if (s.methods.empty())
            s.methods = d.methods;
    }
    s.bits = intIn(store, QStringLiteral("run/bits"), 2, 8, d.bits);
    s.groupSize = groupIn(store, QStringLiteral("run/groupSize"), d.groupSize);
    s.alpha = floatIn(store, QStringLiteral("run/alpha"), 0.0, 1.0, d.alpha);
    s.damp = floatIn(store, QStringLiteral("run/damp"), 0.001, 1.0, d.damp);
    s.actOrder = boolOr(store, QStringLiteral("run/actOrder"), d.actOrder);
    s.awqClip = boolOr(store, QStringLiteral("run/awqClip"), d.awqClip);
    s.calibrationText = store.value(QStringLiteral("run/calibrationText")).toString().toStdString();
    s.calibrationPreset = presetOr(store, QStringLiteral("run/calibrationPreset"), d.calibrationPreset);
    s.evalWindows = intIn(store, QStringLiteral("run/evalWindows"), 1, 512, d.evalWindows);
    s.evalContext = intIn(store, QStringLiteral("run/evalContext"), 16, 4096, d.evalContext);
    s.preferGpu = boolOr(store, QStringLiteral("run/preferGpu"), d.preferGpu);
    return s;
}

void savePlaygroundSettings(QSettings& store, const PlaygroundSettings& s)
{
    store.setValue(QStringLiteral("playground/prompt"), QString::fromStdString(s.prompt));
    store.setValue(QStringLiteral("playground/method"), QString::fromStdString(s.method));
    store.setValue(QStringLiteral("playground/bits"), s.bits);
    store.setValue(QStringLiteral("playground/groupSize"), s.groupSize);
    store.setValue(QStringLiteral("playground/calibrationPreset"), QString::fromStdString(s.calibrationPreset));
    store.setValue(QStringLiteral("playground/maxTokens"), s.maxTokens);
    store.setValue(QStringLiteral("playground/temperature"), double(s.temperature));
    store.setValue(QStringLiteral("playground/topP"), double(s.topP));
    store.setValue(QStringLiteral("playground/seed"), qulonglong(s.seed));
}

PlaygroundSettings loadPlaygroundSettings(const QSettings& store)
{
    const PlaygroundSettings d;
    PlaygroundSettings s;
    if (store.contains(QStringLiteral("playground/prompt")))
        s.prompt = store.value(QStringLiteral("playground/prompt")).toString().left(100000).toStdString();
    const std::string method = store.value(QStringLiteral("playground/method")).toString().toStdString();
    s.method = isMethod(method) ? method : d.method;
    s.bits = intIn(store, QStringLiteral("playground/bits"), 2, 8, d.bits);
    s.groupSize = groupIn(store, QStringLiteral("playground/groupSize"), d.groupSize);
    s.calibrationPreset = presetOr(store, QStringLiteral("playground/calibrationPreset"), d.calibrationPreset);
    s.maxTokens = intIn(store, QStringLiteral("playground/maxTokens"), 1, 4096, d.maxTokens);
    s.temperature = floatIn(store, QStringLiteral("playground/temperature"), 0.0, 2.0, d.temperature);
    s.topP = floatIn(store, QStringLiteral("playground/topP"), 0.05, 1.0, d.topP);
    bool ok = false;
    const qulonglong seed = store.value(QStringLiteral("playground/seed")).toULongLong(&ok);
    s.seed = ok && seed < (1ull << 30) ? seed : d.seed;
    return s;
}

} // namespace qs::ui
