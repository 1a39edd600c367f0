#pragma once
// What a compare run keeps of each linear so that one layer can be drawn under every method
// afterwards: the reference weight once (f32), and per method the error W' - W (f16: the
// histograms and heatmaps need about 3 significant digits of an error, not of the weight) with
// the scales the format stores. Memory is bounded: once the budget is spent, later linears are
// not kept and the views say so. Filled on the worker through quant::LayerWeightObserver.
#include "core/analysis/weight_scales.hpp"
#include "core/quant/layer_metrics.hpp"

#include <Eigen/Core>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace qs::ui {

struct LayerSnapshot {
    std::string format;               // compute::formatName
    int rows = 0, cols = 0;
    std::vector<Eigen::half> error;   // effective - reference, [rows][cols]
    analysis::GroupScales scales;
    float errorAt(int r, int c) const { return float(error[std::size_t(r) * std::size_t(cols) + std::size_t(c)]); }
};

class KeptLayers {
public:
    explicit KeptLayers(std::size_t budgetBytes) : budget_(budgetBytes) {}
    static int key(int block, int role) { return block * 7 + role; }

    std::shared_ptr<const runtime::Mat> reference(int block, int role) const;
    // null when the method did not keep it (failed, or beyond the budget).
    std::shared_ptr<const LayerSnapshot> snapshot(const std::string& method, int block, int role) const;
    int skipped() const { return skipped_; } // linears x methods not kept
    std::size_t bytes() const { return bytes_; }

    // Worker side: one observer per method, installed around quantizeModel.
    void keep(const std::string& method, const quant::LayerReport& report, const runtime::Mat& reference,
              const compute::WeightMatrix& quantized, const runtime::Mat& effective);

private:
    mutable std::mutex mutex_;
    std::size_t budget_, bytes_ = 0;
    int skipped_ = 0;
    std::map<int, std::shared_ptr<const runtime::Mat>> references_;
    std::map<std::pair<std::string, int>, std::shared_ptr<const LayerSnapshot>> snapshots_;
};

class KeepLayerWeights : public quant::LayerWeightObserver {
public:
    KeepLayerWeights(KeptLayers& kept, std::string method) : kept_(kept), method_(std::move(method)) {}
    void observe(const quant::LayerReport& report, const runtime::Mat& reference, const compute::WeightMatrix& quantized,
                 const runtime::Mat& effective) override
    {
        kept_.keep(method_, report, reference, quantized, effective);
    }

private:
    KeptLayers& kept_;
    std::string method_;
};

constexpr std::size_t kKeptLayersBudget = std::size_t(512) << 20;

} // namespace qs::ui
