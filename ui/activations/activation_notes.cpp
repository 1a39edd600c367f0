#include "ui/activations/activation_notes.hpp"

#include <QObject>

namespace qs::ui {

namespace {
QString pct(double v) { return QString::number(100.0 * v, 'g', 3) + QLatin1Char('%'); }
} // namespace

QString outlierNote(const analysis::InputSiteProfile& site, const analysis::OutlierChannels& outliers)
{
    return QObject::tr("%1 of %2 channels are outliers (absmax > %3 \u00d7 median = %4); input shared by %5.")
        .arg(outliers.channels.size())
        .arg(site.absmax.size())
        .arg(analysis::kActivationOutlierFactor)
        .arg(outliers.threshold, 0, 'g', 3)
        .arg(QString::fromLatin1(calib::inputSiteName(site.site)));
}

QString smoothingRangeNote(const analysis::SmoothingPreview& p, const analysis::InputSiteProfile& site,
                           const analysis::LinearProfile& linear)
{
    QString note = QObject::tr("widest / median channel: X %1 \u2192 %2, W %3 \u2192 %4")
                       .arg(analysis::spreadOf(site.absmax), 0, 'f', 1)
                       .arg(p.activationSpread, 0, 'f', 1)
                       .arg(analysis::spreadOf(linear.weightAbsmax), 0, 'f', 1)
                       .arg(p.weightSpread, 0, 'f', 1);
    if (!linear.smoothedByMethod)
        note += QObject::tr(" (the method leaves %1 unsmoothed: no norm precedes it)")
                    .arg(QString::fromLatin1(runtime::linearRoleName(linear.role)));
    return note;
}

QString int8ErrorNote(const analysis::SmoothedInt8Error& e, int rows)
{
    return QObject::tr("int8 at \u03b1 = %1 on %2 calibration rows: X per token %3 \u00b7 X per tensor (static) %4 "
                       "\u00b7 W per output channel %5 \u00b7 output XW\u1d40 (W8A8, per token) %6")
        .arg(double(e.alpha), 0, 'f', 2)
        .arg(rows)
        .arg(pct(e.activationPerToken), pct(e.activationPerTensor), pct(e.weight), pct(e.output));
}

} // namespace qs::ui
