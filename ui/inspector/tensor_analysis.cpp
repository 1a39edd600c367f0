#include "ui/inspector/tensor_analysis.hpp"

#include "core/compute/weight_formats.hpp"
#include "core/quant/groupwise.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

double fractionOutside(const std::vector<float>& w, double lo, double hi)
{
    std::size_t n = 0;
    for (float v : w)
        n += (double(v) < lo || double(v) > hi) ? 1 : 0;
    return w.empty() ? 0.0 : double(n) / double(w.size());
}

void channelAbsmax(const std::vector<float>& w, int rows, int cols, TensorAnalysis& a)
{
    a.rowAbsmax.assign(std::size_t(rows), 0.0);
    a.colAbsmax.assign(std::size_t(cols), 0.0);
    double top = -1;
    for (int r = 0; r < rows; ++r) {
        const float* row = w.data() + std::size_t(r) * std::size_t(cols);
        double m = 0;
        for (int c = 0; c < cols; ++c) {
            const double v = std::fabs(double(row[c]));
            if (v > top) {
                top = v;
                a.maxRow = r;
                a.maxCol = c;
            }
            m = std::max(m, v);
            a.colAbsmax[std::size_t(c)] = std::max(a.colAbsmax[std::size_t(c)], v);
        }
        a.rowAbsmax[std::size_t(r)] = m;
    }
    auto flag = [](const std::vector<double>& v, double& threshold, std::vector<int>& out) {
        threshold = channelOutlierThreshold(v);
        for (std::size_t i = 0; i < v.size(); ++i)
            if (v[i] > threshold)
                out.push_back(int(i));
    };
    flag(a.rowAbsmax, a.rowOutlierThreshold, a.rowOutliers);
    flag(a.colAbsmax, a.colOutlierThreshold, a.colOutliers);
}

void pooledHeatmap(const std::vector<float>& w, int rows, int cols, TensorAnalysis& a)
{
    a.poolRows = (rows + kHeatmapSide - 1) / kHeatmapSide;
    a.poolCols = (cols + kHeatmapSide - 1) / kHeatmapSide;
    const int outRows = (rows + a.poolRows - 1) / a.poolRows;
    const int outCols = (cols + a.poolCols - 1) / a.poolCols;
    std::vector<float> pooled(std::size_t(outRows) * std::size_t(outCols), 0.0f);
    for (int r = 0; r < rows; ++r) {
        const float* row = w.data() + std::size_t(r) * std::size_t(cols);
        float* out = pooled.data() + std::size_t(r / a.poolRows) * std::size_t(outCols);
        for (int c = 0; c < cols; ++c)
            out[c / a.poolCols] = std::max(out[c / a.poolCols], std::fabs(row[c]));
    }
    // key = input column, value = output row; cell centres span the original index range.
    auto data = std::make_unique<QCPColorMapData>(outCols, outRows, QCPRange(0, cols - 1), QCPRange(0, rows - 1));
    for (int r = 0; r < outRows; ++r)
        for (int c = 0; c < outCols; ++c)
            data->setCell(c, r, double(pooled[std::size_t(r) * std::size_t(outCols) + std::size_t(c)]));
    data->recalculateDataBounds();
    a.heatmap = std::move(data);
}

void nf4Overlay(const std::vector<float>& w, TensorAnalysis& a)
{
    std::vector<double> blockAbsmax;
    blockAbsmax.reserve(w.size() / compute::Nf4::kBlockSize + 1);
    for (std::size_t start = 0; start < w.size(); start += compute::Nf4::kBlockSize) {
        const std::size_t end = std::min(w.size(), start + compute::Nf4::kBlockSize);
        double m = 0;
        for (std::size_t i = start; i < end; ++i)
            m = std::max(m, std::fabs(double(w[i])));
        blockAbsmax.push_back(m);
    }
    a.nf4MedianBlockAbsmax = median(std::move(blockAbsmax));
    a.nf4ClippedFraction = fractionOutside(w, -a.nf4MedianBlockAbsmax, a.nf4MedianBlockAbsmax);
    for (float level : compute::kNf4Levels)
        a.nf4Levels.push_back(double(level) * a.nf4MedianBlockAbsmax);
}

IntGridOverlay intOverlay(const std::vector<float>& w, int rows, int cols, int groupSize)
{
    const quant::GroupGrid grid{4, false};
    const int g = (groupSize <= 0 || groupSize >= cols || cols % groupSize != 0) ? cols : groupSize;
    struct Params { float scale, zero; };
    std::vector<Params> params;
    params.reserve(std::size_t(rows) * std::size_t(cols / g));
    for (int r = 0; r < rows; ++r)
        for (int c0 = 0; c0 < cols; c0 += g) {
            Params p{};
            quant::findParams(w.data() + std::size_t(r) * std::size_t(cols) + std::size_t(c0), g, 1, grid, p.scale,
                              p.zero);
            params.push_back(p);
        }
    IntGridOverlay o;
    o.groupSize = g == cols ? 0 : g;
    if (params.empty())
        return o;
    const auto mid = params.begin() + std::ptrdiff_t(params.size() / 2);
    std::nth_element(params.begin(), mid, params.end(),
                     [](const Params& x, const Params& y) { return x.scale < y.scale; });
    o.medianScale = mid->scale;
    for (int q = 0; q <= grid.maxq(); ++q)
        o.levels.push_back(double(quant::dequantizeCode(float(q), mid->scale, mid->zero)));
    o.clipLo = o.levels.front() - 0.5 * o.medianScale;
    o.clipHi = o.levels.back() + 0.5 * o.medianScale;
    o.clippedFraction = fractionOutside(w, o.clipLo, o.clipHi);
    return o;
}

} // namespace

TensorAnalysis::TensorAnalysis() = default;
TensorAnalysis::~TensorAnalysis() = default;

const IntGridOverlay* TensorAnalysis::int4Grid(int groupSize) const
{
    for (const auto& g : int4Grids)
        if (g.groupSize == groupSize)
            return &g;
    return int4Grids.empty() ? nullptr : &int4Grids.back();
}

double channelOutlierThreshold(const std::vector<double>& values)
{
    const double med = median(values);
    std::vector<double> dev;
    dev.reserve(values.size());
    for (double v : values)
        dev.push_back(std::fabs(v - med));
    return med + 6.0 * 1.4826 * median(std::move(dev));
}

std::shared_ptr<TensorAnalysis> analyzeTensor(const io::Checkpoint& checkpoint, const std::string& name,
                                              jobs::Progress& progress)
{
    progress.beginStage("reading " + name);
    auto a = std::make_shared<TensorAnalysis>();
    a->name = name;
    Tensor t = checkpoint.readF32(name);
    a->shape = t.shape;
    progress.beginStage("statistics of " + name);
    a->bins = kInspectorBins;
    a->stats = computeStats(t.data, kInspectorBins);
    progress.report(0.4);
    nf4Overlay(t.data, *a);
    if (t.shape.size() == 2 && t.numel() > 0) {
        const int rows = int(t.shape[0]), cols = int(t.shape[1]);
        channelAbsmax(t.data, rows, cols, *a);
        progress.report(0.6);
        pooledHeatmap(t.data, rows, cols, *a);
        progress.report(0.8);
        for (int g : overlayGroupSizes())
            a->int4Grids.push_back(intOverlay(t.data, rows, cols, g));
    }
    a->values = std::make_shared<const std::vector<float>>(std::move(t.data));
    progress.report(1.0);
    return a;
}

} // namespace qs::ui
