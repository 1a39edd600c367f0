#pragma once
// Human-readable numbers for labels and table cells; exact values go in tooltips.
#include <QString>

#include <cstdint>

namespace qs::ui {

QString formatBytes(std::uint64_t bytes);      // "1.5 GiB", "812 KiB", "17 B"
QString formatCount(std::int64_t n);           // "1.24 B", "4.19 M", "12.3 K", "512"
QString formatExact(std::int64_t n);           // "1,235,814,400"

} // namespace qs::ui
