#pragma once
// One linear under every method of a compare run, computed on a worker from the kept weights
// (layer_snapshots.hpp): histograms of the dequantized weights W' and of the error W' - W on bins
// shared by all methods (so the panes' axes can be linked), and the scales each format stores,
// by output row (row + group / groups per row, max-pooled to at most kMaxScalePoints).
#include "core/jobs/progress.hpp"
#include "ui/compare/compare_job.hpp"

#include <memory>
#include <string>
#include <vector>

namespace qs::ui {

struct LayerComparePane {
    std::string method, format, scaleKind;
    std::vector<double> weightCounts, errorCounts; // per bin
    std::vector<double> scaleIndex, scaleValues;   // x in output rows; empty when no scales
    double errorRms = 0, errorAbsMax = 0;
    double outputRelError = 0, sqnrDb = 0; // from the method's LayerReport
};

struct LayerComparison {
    int block = 0, role = 0;
    std::string name;
    int rows = 0, cols = 0;
    std::vector<double> weightEdges, errorEdges; // bins + 1 edges, shared by every pane
    std::vector<double> originalCounts;          // W itself on the weight bins
    std::vector<LayerComparePane> panes;         // methods that ran and kept this layer, run order
    std::vector<std::string> notKept;            // methods that ran but kept no weights for it
};

constexpr int kLayerCompareBins = 121;
constexpr int kMaxScalePoints = 2048;

// Throws qs::Error when the run kept no reference for the layer. Cancellable between methods.
std::shared_ptr<const LayerComparison> compareLayer(const CompareResults& results, int block, int role,
                                                    jobs::Progress& progress);

} // namespace qs::ui
