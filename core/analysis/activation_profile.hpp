#pragma once
// What the activation inspector shows, gathered once by streaming a calibration set through
// the unquantized model (block_capture.hpp): per input site of every block (q,k,v share one,
// gate,up share one) the per-channel absmax, mean |x| and mean x^2 and a few raw input rows,
// and per linear the per-input-channel absmax of the weights SmoothQuant smooths together.
// Memory: sites x channels x (3 + sampleRows) floats, plus linears x channels; no weights.
#include "core/calib/block_capture.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qs::analysis {

struct InputSiteProfile {
    int block = 0;
    calib::InputSite site = calib::InputSite::Attention;
    std::int64_t tokens = 0;
    runtime::Vec absmax, meanAbs, meanSquare; // [channels]
    runtime::Mat sample;                      // up to sampleRows raw input rows [rows][channels]
};

struct LinearProfile {
    std::string name; // "model.layers.3.mlp.down_proj"
    int block = 0;
    runtime::LinearRole role = runtime::LinearRole::Q;
    int site = 0; // index into ActivationProfile::sites
    // q,k,v and gate,up: a norm precedes them, so the SmoothQuant method smooths them; o and
    // down have no norm to fold s into and the method leaves them as they are.
    bool smoothedByMethod = false;
    runtime::Vec weightAbsmax;      // max|W_:,j| of this linear
    runtime::Vec groupWeightAbsmax; // max|W_:,j| over every linear the method smooths with it
};

struct ActivationProfile {
    int samples = 0, length = 0;
    std::vector<InputSiteProfile> sites;
    std::vector<LinearProfile> linears; // model order: block, then q k v o gate up down

    const InputSiteProfile& siteOf(const LinearProfile& l) const { return sites[std::size_t(l.site)]; }
    int indexOf(int block, runtime::LinearRole role) const; // -1 when absent
};

// Streams `set` through model (left unchanged). Progress: one stage per block; cancellable.
ActivationProfile profileActivations(runtime::Transformer& model, const calib::CalibrationSet& set, int sampleRows,
                                     std::uint64_t seed, jobs::Progress* progress = nullptr);

// Outlier channels: absmax_j > factor x the median channel absmax (factor 6 by default: a
// channel six times the typical range takes most of a shared int8 scale).
constexpr double kActivationOutlierFactor = 6.0;
struct OutlierChannels {
    double threshold = 0;
    std::vector<int> channels;
};
OutlierChannels activationOutliers(const runtime::Vec& absmax, double factor = kActivationOutlierFactor);

} // namespace qs::analysis
