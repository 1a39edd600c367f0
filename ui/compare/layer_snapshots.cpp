#include "ui/compare/layer_snapshots.hpp"

namespace qs::ui {

std::shared_ptr<const runtime::Mat> KeptLayers::reference(int block, int role) const
{
    std::lock_guard lock(mutex_);
    const auto it = references_.find(key(block, role));
    return it == references_.end() ? nullptr : it->second;
}

std::shared_ptr<const LayerSnapshot> KeptLayers::snapshot(const std::string& method, int block, int role) const
{
    std::lock_guard lock(mutex_);
    const auto it = snapshots_.find({method, key(block, role)});
    return it == snapshots_.end() ? nullptr : it->second;
}

void KeptLayers::keep(const std::string& method, const quant::LayerReport& report, const runtime::Mat& reference,
                      const compute::WeightMatrix& quantized, const runtime::Mat& effective)
{
    const int k = key(report.block, int(report.role));
    const std::size_t n = std::size_t(reference.size());
    std::lock_guard lock(mutex_);
    const bool haveReference = references_.count(k) > 0;
    const std::size_t cost = n * sizeof(Eigen::half) + (haveReference ? 0 : n * sizeof(float));
    if (bytes_ + cost > budget_ || effective.rows() != reference.rows() || effective.cols() != reference.cols()) {
        ++skipped_;
        return;
    }
    if (!haveReference)
        references_[k] = std::make_shared<const runtime::Mat>(reference);
    auto s = std::make_shared<LayerSnapshot>();
    s->format = compute::formatName(quantized);
    s->rows = int(reference.rows());
    s->cols = int(reference.cols());
    s->error.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        s->error[i] = Eigen::half(effective.data()[i] - reference.data()[i]);
    s->scales = analysis::groupScales(quantized);
    bytes_ += cost + std::size_t(s->scales.scales.size()) * sizeof(float);
    snapshots_[{method, k}] = std::move(s);
}

} // namespace qs::ui
