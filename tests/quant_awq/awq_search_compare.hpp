#pragma once
// Compares two AWQ scale searches of one block group by group: the judged errors over the
// ratio grid (normalized error of the vectors) and the chosen ratios (equal, or the reference's
// errors at the two choices within choiceTolerance relative: a near-tie).
#include "core/quant/awq_search.hpp"

#include <QtTest/QtTest>

#include <cmath>
#include <string>

namespace qs::test {

struct AwqSearchDifference {
    double worstErrorDiff = 0; // max over groups of ||e - e_ref|| / ||e_ref|| (grid and RTN)
    int ratiosDiffering = 0;
    int groups = 0;
};

inline bool compareAwqSearches(const quant::AwqBlockSearch& ref, const quant::AwqBlockSearch& got, double errorTolerance,
                               double choiceTolerance, const std::string& label, AwqSearchDifference& diff)
{
    if (ref.groups.size() != got.groups.size())
        return false;
    for (std::size_t g = 0; g < ref.groups.size(); ++g) {
        const auto& a = ref.groups[g];
        const auto& b = got.groups[g];
        if (a.searched != b.searched)
            return false;
        if (!a.searched)
            continue;
        ++diff.groups;
        double d2 = (a.rtnError - b.rtnError) * (a.rtnError - b.rtnError), r2 = a.rtnError * a.rtnError;
        for (std::size_t i = 0; i < a.errors.size(); ++i) {
            d2 += (a.errors[i] - b.errors[i]) * (a.errors[i] - b.errors[i]);
            r2 += a.errors[i] * a.errors[i];
        }
        const double rel = std::sqrt(d2 / r2);
        diff.worstErrorDiff = std::max(diff.worstErrorDiff, rel);
        // The reference's error at each search's choice (kept RTN: the RTN error).
        auto refErrorAt = [&](const quant::AwqGroupChoice& c) {
            return c.keptRtn ? a.rtnError : a.errors[std::size_t(std::lround(c.ratio * float(a.errors.size())))];
        };
        const bool same = a.keptRtn == b.keptRtn && (a.keptRtn || a.ratio == b.ratio);
        const double ea = refErrorAt(a), eb = refErrorAt(b);
        qInfo("%s %-38s ratio %.2f%s vs %.2f%s; judged errors differ by %.2e (normalized); reference error at the "
              "choices %.4e vs %.4e",
              label.c_str(), a.name.c_str(), a.ratio, a.keptRtn ? " (RTN)" : "", b.ratio, b.keptRtn ? " (RTN)" : "", rel, ea,
              eb);
        if (rel > errorTolerance)
            return false;
        if (!same) {
            ++diff.ratiosDiffering;
            if (eb > ea * (1 + choiceTolerance))
                return false;
        }
    }
    return true;
}

} // namespace qs::test
