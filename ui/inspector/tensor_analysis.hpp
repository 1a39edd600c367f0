#pragma once
// Everything the tensor inspector draws, computed on a worker from one tensor: summary stats
// and the histogram, per-output-channel and per-input-channel absmax with outliers, a pooled
// |W| heatmap (as QCPColorMapData, ready to hand to a QCPColorMap on the GUI thread), and the
// grids of the methods drawn over the histogram.
#include "core/io/checkpoint.hpp"
#include "core/jobs/progress.hpp"
#include "core/tensor/stats.hpp"

#include <memory>
#include <string>
#include <vector>

class QCPColorMapData;

namespace qs::ui {

// The grid of a group-wise RTN quantizer (GPTQ's find_params) for one group size, taken at the
// group whose scale is the median over the tensor: a typical group, not every group.
struct IntGridOverlay {
    int groupSize = 0;           // 0: one group per output channel
    double medianScale = 0;
    std::vector<double> levels;  // (q - zero) * scale, q = 0 .. 2^bits - 1
    // Clip thresholds of that grid (half a step beyond its end levels) and the fraction of all
    // values outside them: what one shared median scale would clip (each group's own scale
    // covers its own range).
    double clipLo = 0, clipHi = 0, clippedFraction = 0;
};

struct TensorAnalysis {
    TensorAnalysis();
    ~TensorAnalysis(); // QCPColorMapData is complete in the .cpp
    std::string name;
    Shape shape;
    TensorStats stats;
    int bins = 0;

    // Matrices only (rank 2): one value per output row / input column.
    std::vector<double> rowAbsmax, colAbsmax;
    std::vector<int> rowOutliers, colOutliers; // indices flagged by isChannelOutlier's rule
    double rowOutlierThreshold = 0, colOutlierThreshold = 0;
    int maxRow = 0, maxCol = 0; // where |W| is largest: the drill-down's first cell

    // The values as read, row-major, kept for the drill-down (one tensor, the selected one).
    std::shared_ptr<const std::vector<float>> values;

    // |W| pooled by max to at most kHeatmapSide per side; null for vectors.
    std::unique_ptr<QCPColorMapData> heatmap; // released to the QCPColorMap on the GUI thread
    int poolRows = 1, poolCols = 1;

    // NF4: the 16 levels times the median of the 64-value block absmax (the scale a typical
    // block gets; the tensor absmax would stretch the grid to the single largest value).
    double nf4MedianBlockAbsmax = 0;
    std::vector<double> nf4Levels;
    double nf4ClippedFraction = 0; // beyond +-nf4MedianBlockAbsmax (the end levels are +-1)
    std::vector<IntGridOverlay> int4Grids; // for kOverlayGroupSizes, asymmetric 4-bit

    const IntGridOverlay* int4Grid(int groupSize) const;
};

constexpr int kHeatmapSide = 512;
constexpr int kInspectorBins = 160;
inline const std::vector<int>& overlayGroupSizes()
{
    static const std::vector<int> sizes{32, 64, 128, 0};
    return sizes;
}

// Outlier rule for channel absmax values: above median + 6 * 1.4826 * MAD (a robust 6 sigma,
// so one huge channel cannot hide itself by inflating the standard deviation).
double channelOutlierThreshold(const std::vector<double>& values);

// Reads the tensor (checkpoint.readF32) and computes everything above. Cancellable between
// phases through progress.
std::shared_ptr<TensorAnalysis> analyzeTensor(const io::Checkpoint& checkpoint, const std::string& name,
                                              jobs::Progress& progress);

} // namespace qs::ui
