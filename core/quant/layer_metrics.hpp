#pragma once
// The numbers every method reports per linear, computed one way for all of them.
#include "core/compute/weight_formats.hpp"
#include "core/quant/groupwise_storage.hpp"
#include "core/quant/method.hpp"
#include "core/runtime/matrix.hpp"

namespace qs::quant {

// HF-style name of a block's linear: "model.layers.3.mlp.down_proj".
std::string linearName(int block, runtime::LinearRole role);

// Dequantizes w (compute's CPU reference) to [N][K].
runtime::Mat dequantize(const compute::WeightMatrix& w);

// The f32 weight [out][in] and bias a linear computes with now (dense, or dequantized).
runtime::Mat currentWeight(const runtime::LinearOp& op);
std::optional<runtime::Vec> currentBias(const runtime::LinearOp& op);

// Fills format, bits per weight (every byte the format stores, bias excluded), weight MSE and
// SQNR against `reference`, and the output error on the rows of x (skipped when x is empty).
// `effective` is what the quantized layer computes, when it differs from dequantize(w) (for
// example SmoothQuant's scaled weights); pass nullptr otherwise.
void fillMetrics(LayerReport& report, const runtime::Mat& reference, const compute::WeightMatrix& w,
                 const runtime::Mat& x, const runtime::Mat* effective = nullptr);

// The same for a group-wise result, with the format and bits per weight of its codes as the
// method means them (per channel, 5-8 bits) and choices["runtime_format"] saying what runs.
void fillMetrics(LayerReport& report, const runtime::Mat& reference, const StoredGroupwise& stored,
                 const runtime::Mat& x, const runtime::Mat* effective = nullptr);

// ||x W^T - x Wq^T|| / ||x W^T|| with both products run by the linears themselves (on a GPU
// where they live there); `bias`, which both add, is taken out first.
double outputRelError(const runtime::LinearOp& reference, const runtime::LinearOp& quantized, const runtime::Mat& x,
                      const std::optional<runtime::Vec>& bias);

// Sees the weights behind every report that fillMetrics fills on this thread while installed
// (the GUI keeps them to draw one layer under every method). report holds name, block and role;
// effective is what the quantized layer computes, in the reference's space.
class LayerWeightObserver {
public:
    virtual ~LayerWeightObserver() = default;
    virtual void observe(const LayerReport& report, const runtime::Mat& reference, const compute::WeightMatrix& quantized,
                         const runtime::Mat& effective) = 0;
};

// Installs an observer for this thread until destroyed (the previous one comes back).
class ScopedLayerWeightObserver {
public:
    explicit ScopedLayerWeightObserver(LayerWeightObserver* observer);
    ~ScopedLayerWeightObserver();
    ScopedLayerWeightObserver(const ScopedLayerWeightObserver&) = delete;
    ScopedLayerWeightObserver& operator=(const ScopedLayerWeightObserver&) = delete;

private:
    LayerWeightObserver* previous_;
};

} // namespace qs::quant
