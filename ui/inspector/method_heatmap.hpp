#pragma once
// Heatmaps of what a method did to one linear, built on a worker from a compare run's kept
// weights (ui/compare/layer_snapshots.hpp): |W' - W| or the stored per-group scales, max-pooled
// to at most kHeatmapSide cells per side as QCPColorMapData (handed to the plot on the GUI
// thread). The snapshot stays referenced for the raw-value drill-down.
#include "core/jobs/progress.hpp"
#include "ui/compare/layer_snapshots.hpp"

#include <memory>
#include <string>

class QCPColorMapData;

namespace qs::ui {

enum class HeatmapKind { Weight, Error, Scales };

struct MethodHeatmap {
    MethodHeatmap();
    ~MethodHeatmap();
    HeatmapKind kind = HeatmapKind::Error;
    std::string method;
    int rows = 0, cols = 0;         // of the source matrix (scales: rows x groups)
    int poolRows = 1, poolCols = 1;
    std::unique_ptr<QCPColorMapData> data;
    std::shared_ptr<const LayerSnapshot> snapshot;
    double valueAt(int r, int c) const; // the raw (signed) value behind a cell
};

// Throws qs::Error when the run kept nothing for this linear and method.
std::shared_ptr<MethodHeatmap> buildMethodHeatmap(const KeptLayers& kept, const std::string& method, int block,
                                                  int role, HeatmapKind kind, jobs::Progress& progress);

} // namespace qs::ui
