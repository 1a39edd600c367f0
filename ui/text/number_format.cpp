#include "ui/text/number_format.hpp"

#include <QLocale>

#include <array>
#include <cmath>

namespace qs::ui {

namespace {

// Three significant digits reads well in both tables and summaries ("4.19 M", "36.5 K").
QString threeDigits(double v)
{
    const int decimals = v >= 100 ? 0 : (v >= 10 ? 1 : 2);
    return QString::number(v, 'f', decimals);
}

} // namespace

QString formatBytes(std::uint64_t bytes)
{
    static constexpr std::array<const char*, 6> units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < units.size()) {
        v /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(threeDigits(v), QString::fromLatin1(units[u]));
}

QString formatCount(std::int64_t n)
{
    static constexpr std::array<const char*, 5> units{"", "K", "M", "B", "T"};
    const bool negative = n < 0;
    double v = std::abs(static_cast<double>(n));
    if (v < 1000)
        return QString::number(n);
    std::size_t u = 0;
    while (v >= 1000.0 && u + 1 < units.size()) {
        v /= 1000.0;
        ++u;
    }
    return QStringLiteral("%1%2 %3").arg(negative ? QStringLiteral("-") : QString(), threeDigits(v),
                                         QString::fromLatin1(units[u]));
}

QString formatExact(std::int64_t n)
{
    // Fixed grouping rather than the system locale, so tests and screenshots read the same.
    return QLocale(QLocale::English, QLocale::UnitedStates).toString(static_cast<qlonglong>(n));
}

} // namespace qs::ui
