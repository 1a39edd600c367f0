#pragma once
// Summary statistics of a tensor's values, as the inspector and `quantscope-cli stats` show.
#include <cstdint>
#include <span>
#include <vector>

namespace qs {

struct Histogram {
    std::vector<double> edges;         // bins + 1 ascending edges
    std::vector<std::uint64_t> counts; // bins
};

struct TensorStats {
    std::uint64_t count = 0;
    std::uint64_t nonFinite = 0; // NaN/inf values, excluded from everything below
    double min = 0, max = 0, mean = 0, std = 0, absmax = 0;
    double kurtosis = 0;         // Pearson's (a normal distribution has 3), not excess
    std::uint64_t beyond6Sigma = 0; // |x - mean| > 6 std
    Histogram histogram;         // uniform bins over [min, max]
};

// Two passes in double precision (mean first, then central moments) so kurtosis of large
// tensors is not destroyed by cancellation.
TensorStats computeStats(std::span<const float> values, int bins = 64);

// Uniform bins over [lo, hi]; values outside are clamped into the end bins.
Histogram uniformHistogram(std::span<const float> values, double lo, double hi, int bins);

} // namespace qs
