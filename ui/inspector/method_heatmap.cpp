#include "ui/inspector/method_heatmap.hpp"

#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"
#include "ui/inspector/tensor_analysis.hpp"

#include <qcustomplot.h>

#include <cmath>

namespace qs::ui {

MethodHeatmap::MethodHeatmap() = default;
MethodHeatmap::~MethodHeatmap() = default;

double MethodHeatmap::valueAt(int r, int c) const
{
    if (!snapshot)
        return 0;
    return kind == HeatmapKind::Scales ? double(snapshot->scales.scales(r, c)) : double(snapshot->errorAt(r, c));
}

std::shared_ptr<MethodHeatmap> buildMethodHeatmap(const KeptLayers& kept, const std::string& method, int block,
                                                  int role, HeatmapKind kind, jobs::Progress& progress)
{
    const std::string name = quant::linearName(block, runtime::LinearRole(role));
    progress.beginStage("heatmap of " + name + " under " + method);
    auto h = std::make_shared<MethodHeatmap>();
    h->kind = kind;
    h->method = method;
    h->snapshot = kept.snapshot(method, block, role);
    if (!h->snapshot)
        throw Error(name + ": the compare run kept no " + method + " weights for it");
    const auto& s = *h->snapshot;
    h->rows = kind == HeatmapKind::Scales ? int(s.scales.scales.rows()) : s.rows;
    h->cols = kind == HeatmapKind::Scales ? int(s.scales.scales.cols()) : s.cols;
    if (h->rows == 0 || h->cols == 0)
        throw Error(name + ": " + method + " (" + s.format + ") stores no scales");
    h->poolRows = (h->rows + kHeatmapSide - 1) / kHeatmapSide;
    h->poolCols = (h->cols + kHeatmapSide - 1) / kHeatmapSide;
    const int outRows = (h->rows + h->poolRows - 1) / h->poolRows, outCols = (h->cols + h->poolCols - 1) / h->poolCols;
    std::vector<double> pooled(std::size_t(outRows) * std::size_t(outCols), 0.0);
    for (int r = 0; r < h->rows; ++r) {
        double* out = pooled.data() + std::size_t(r / h->poolRows) * std::size_t(outCols);
        for (int c = 0; c < h->cols; ++c)
            out[c / h->poolCols] = std::max(out[c / h->poolCols], std::fabs(h->valueAt(r, c)));
        if (r % 64 == 0)
            progress.report(double(r) / double(h->rows));
    }
    // key = input column (or group), value = output row, as the |W| heatmap.
    h->data = std::make_unique<QCPColorMapData>(outCols, outRows, QCPRange(0, std::max(1, h->cols - 1)),
                                                QCPRange(0, std::max(1, h->rows - 1)));
    for (int r = 0; r < outRows; ++r)
        for (int c = 0; c < outCols; ++c)
            h->data->setCell(c, r, pooled[std::size_t(r) * std::size_t(outCols) + std::size_t(c)]);
    h->data->recalculateDataBounds();
    return h;
}

} // namespace qs::ui
