#include "commands.hpp"

#include "core/model/model.hpp"
#include "core/tensor/stats.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace qs::cli {

int runStats(const StatsOptions& o)
{
    model::Model m = model::openModel(o.model);
    const auto* info = m.checkpoint->find(o.tensor);
    if (!info)
        throw io::NotFoundError(m.source.string() + ": no tensor named '" + o.tensor + "' (see `quantscope-cli inspect`)");
    const Tensor t = m.checkpoint->readF32(o.tensor);
    const TensorStats s = computeStats(t.data, o.bins);

    if (o.json) {
        nlohmann::json j = {{"tensor", info->name}, {"shape", info->shape}, {"dtype", info->dtype},
                            {"count", s.count}, {"non_finite", s.nonFinite}, {"min", s.min},
                            {"max", s.max}, {"mean", s.mean}, {"std", s.std}, {"absmax", s.absmax},
                            {"kurtosis", s.kurtosis}, {"beyond_6_sigma", s.beyond6Sigma},
                            {"histogram", {{"edges", s.histogram.edges}, {"counts", s.histogram.counts}}}};
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("Tensor:        %s %s %s\n", info->name.c_str(), shapeToString(info->shape).c_str(), info->dtype.c_str());
    std::printf("Count:         %llu (non-finite %llu)\n", (unsigned long long)s.count, (unsigned long long)s.nonFinite);
    std::printf("Min / max:     %.6g / %.6g\n", s.min, s.max);
    std::printf("Mean / std:    %.6g / %.6g\n", s.mean, s.std);
    std::printf("Absmax:        %.6g\n", s.absmax);
    std::printf("Kurtosis:      %.4f (normal = 3)\n", s.kurtosis);
    std::printf("Beyond 6 sigma: %llu\n", (unsigned long long)s.beyond6Sigma);
    std::printf("Histogram (%zu bins):\n", s.histogram.counts.size());
    const auto peak = *std::max_element(s.histogram.counts.begin(), s.histogram.counts.end());
    for (std::size_t i = 0; i < s.histogram.counts.size(); ++i) {
        const int bar = peak ? int(40.0 * double(s.histogram.counts[i]) / double(peak) + 0.5) : 0;
        std::printf("  [%11.4g, %11.4g) %10llu %s\n", s.histogram.edges[i], s.histogram.edges[i + 1],
                    (unsigned long long)s.histogram.counts[i], std::string(std::size_t(bar), '#').c_str());
    }
    return 0;
}

} // namespace qs::cli
