#include "ui/compare/layer_compare_data.hpp"

#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"

#include <algorithm>
#include <cmath>

namespace qs::ui {

namespace {

std::vector<double> edges(double lo, double hi, int bins)
{
    if (!(hi > lo))
        hi = lo + 1e-6;
    std::vector<double> e(std::size_t(bins) + 1);
    for (int i = 0; i <= bins; ++i)
        e[std::size_t(i)] = lo + (hi - lo) * double(i) / double(bins);
    return e;
}

void count(std::vector<double>& counts, const std::vector<double>& e, double v)
{
    const int bins = int(counts.size());
    const double lo = e.front(), hi = e.back();
    int b = int(std::floor((v - lo) / (hi - lo) * bins));
    counts[std::size_t(std::clamp(b, 0, bins - 1))] += 1;
}

void poolScales(const analysis::GroupScales& g, LayerComparePane& pane)
{
    const std::size_t n = std::size_t(g.scales.size());
    if (n == 0)
        return;
    const std::size_t pool = (n + kMaxScalePoints - 1) / kMaxScalePoints;
    for (std::size_t i = 0; i < n; i += pool) {
        float m = 0;
        for (std::size_t j = i; j < std::min(n, i + pool); ++j)
            m = std::max(m, std::fabs(g.scales.data()[j]));
        pane.scaleIndex.push_back(double(i) / double(g.scales.cols())); // in output rows: every format alike
        pane.scaleValues.push_back(double(m));
    }
    pane.scaleKind = g.kind + (pool > 1 ? " (max of " + std::to_string(pool) + " per point)" : "");
}

const quant::LayerReport* reportOf(const MethodResult& m, int block, int role)
{
    for (const auto& l : m.run.layers)
        if (l.block == block && int(l.role) == role)
            return &l;
    return nullptr;
}

} // namespace

std::shared_ptr<const LayerComparison> compareLayer(const CompareResults& results, int block, int role,
                                                    jobs::Progress& progress)
{
    auto out = std::make_shared<LayerComparison>();
    out->block = block;
    out->role = role;
    out->name = quant::linearName(block, runtime::LinearRole(role));
    progress.beginStage("comparing " + out->name);
    const auto ref = results.kept ? results.kept->reference(block, role) : nullptr;
    if (!ref)
        throw Error(out->name + ": the compare run kept no weights for this linear");
    const runtime::Mat& w = *ref;
    out->rows = int(w.rows());
    out->cols = int(w.cols());

    std::vector<std::pair<const MethodResult*, std::shared_ptr<const LayerSnapshot>>> kept;
    double wLo = double(w.minCoeff()), wHi = double(w.maxCoeff()), eMax = 0;
    for (const auto& m : results.methods) {
        if (!m.ok())
            continue;
        auto s = results.kept->snapshot(m.method, block, role);
        if (!s || s->rows != out->rows || s->cols != out->cols) {
            out->notKept.push_back(m.method);
            continue;
        }
        for (std::size_t i = 0; i < s->error.size(); ++i) {
            const double e = double(float(s->error[i]));
            const double v = double(w.data()[i]) + e;
            wLo = std::min(wLo, v);
            wHi = std::max(wHi, v);
            eMax = std::max(eMax, std::fabs(e));
        }
        kept.emplace_back(&m, std::move(s));
        progress.checkCancelled();
    }
    out->weightEdges = edges(wLo, wHi, kLayerCompareBins);
    out->errorEdges = edges(-std::max(eMax, 1e-12), std::max(eMax, 1e-12), kLayerCompareBins);
    out->originalCounts.assign(kLayerCompareBins, 0.0);
    for (Eigen::Index i = 0; i < w.size(); ++i)
        count(out->originalCounts, out->weightEdges, double(w.data()[i]));

    for (std::size_t k = 0; k < kept.size(); ++k) {
        const auto& [m, s] = kept[k];
        LayerComparePane pane;
        pane.method = m->method;
        pane.format = s->format;
        pane.weightCounts.assign(kLayerCompareBins, 0.0);
        pane.errorCounts.assign(kLayerCompareBins, 0.0);
        double sum2 = 0;
        for (std::size_t i = 0; i < s->error.size(); ++i) {
            const double e = double(float(s->error[i]));
            count(pane.weightCounts, out->weightEdges, double(w.data()[i]) + e);
            count(pane.errorCounts, out->errorEdges, e);
            sum2 += e * e;
            pane.errorAbsMax = std::max(pane.errorAbsMax, std::fabs(e));
        }
        pane.errorRms = s->error.empty() ? 0 : std::sqrt(sum2 / double(s->error.size()));
        poolScales(s->scales, pane);
        if (const auto* r = reportOf(*m, block, role)) {
            pane.outputRelError = r->outputRelError;
            pane.sqnrDb = r->sqnrDb;
        }
        out->panes.push_back(std::move(pane));
        progress.report(double(k + 1) / double(kept.size()));
    }
    return out;
}

} // namespace qs::ui
