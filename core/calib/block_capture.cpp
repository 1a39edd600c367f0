#include "core/calib/block_capture.hpp"

#include <random>

namespace qs::calib {

using runtime::LinearRole;
using runtime::Mat;

InputSite inputSiteOf(LinearRole role)
{
    switch (role) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V: return InputSite::Attention;
    case LinearRole::O: return InputSite::AttentionOutput;
    case LinearRole::Gate:
    case LinearRole::Up: return InputSite::Mlp;
    case LinearRole::Down: return InputSite::MlpDown;
    }
    return InputSite::Attention;
}

const char* inputSiteName(InputSite site)
{
    static const char* names[] = {"attention input (q,k,v)", "attention output (o)", "MLP input (gate,up)",
                                  "MLP hidden (down)"};
    return names[int(site)];
}

LinearInputStats::LinearInputStats(int channels, bool hessian, int maxSampleRows, std::uint64_t seed)
    : absmax_(runtime::Vec::Zero(channels)), sumAbs_(Eigen::VectorXd::Zero(channels)),
      sumSquare_(Eigen::VectorXd::Zero(channels)), hessianOn_(hessian), maxSampleRows_(maxSampleRows),
      rngState_(seed)
{
    if (hessianOn_)
        xtx_ = Mat::Zero(channels, channels);
}

void LinearInputStats::add(const Mat& x)
{
    tokens_ += x.rows();
    absmax_ = absmax_.cwiseMax(x.cwiseAbs().colwise().maxCoeff().transpose());
    sumAbs_ += x.cwiseAbs().colwise().sum().transpose().cast<double>();
    sumSquare_ += x.cwiseAbs2().colwise().sum().transpose().cast<double>();
    if (hessianOn_)
        xtx_.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
    // Reservoir sampling keeps a uniform sample of all rows seen, whatever their number.
    if (maxSampleRows_ > 0) {
        std::mt19937_64 rng(rngState_);
        for (Eigen::Index r = 0; r < x.rows(); ++r, ++seenRows_) {
            if (sample_.rows() < maxSampleRows_) {
                sample_.conservativeResize(sample_.rows() + 1, x.cols());
                sample_.bottomRows(1) = x.row(r);
            } else {
                const auto j = std::uniform_int_distribution<std::int64_t>(0, seenRows_)(rng);
                if (j < maxSampleRows_)
                    sample_.row(Eigen::Index(j)) = x.row(r);
            }
        }
        rngState_ = rng();
    }
}

runtime::Vec LinearInputStats::meanAbs() const
{
    return tokens_ ? runtime::Vec((sumAbs_ / double(tokens_)).cast<float>()) : runtime::Vec(sumAbs_.cast<float>());
}

runtime::Vec LinearInputStats::meanSquare() const
{
    return tokens_ ? runtime::Vec((sumSquare_ / double(tokens_)).cast<float>()) : runtime::Vec(sumSquare_.cast<float>());
}

Mat LinearInputStats::gptqHessian() const
{
    if (!hessianOn_ || tokens_ == 0)
        return {};
    Mat h = xtx_.selfadjointView<Eigen::Lower>();
    return h * (2.0f / float(tokens_));
}

void streamCalibration(runtime::Transformer& model, const CalibrationSet& set, const CaptureOptions& options,
                       const std::function<void(BlockCalibration&)>& onBlock, jobs::Progress* progress)
{
    std::vector<Mat> hidden;
    hidden.reserve(set.samples.size());
    if (progress)
        progress->beginStage("embedding calibration samples");
    for (const auto& s : set.samples)
        hidden.push_back(model.embed(s));

    const auto& spec = model.spec();
    const int channels[] = {int(spec.hiddenSize), int(spec.numHeads * spec.headDim), int(spec.hiddenSize),
                            int(spec.intermediateSize)};
    const int blocks = int(model.weights().blocks.size());
    for (int b = 0; b < blocks; ++b) {
        if (progress)
            progress->beginStage("calibrating block " + std::to_string(b + 1) + " of " + std::to_string(blocks));
        BlockCalibration cal;
        cal.block = b;
        cal.inputs = &hidden;
        for (int s = 0; s < 4; ++s)
            cal.sites[std::size_t(s)].emplace(channels[s], options.hessian, options.maxSampleRows,
                                              options.seed * 1000003u + std::uint64_t(b) * 4u + std::uint64_t(s));
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int, LinearRole role, const Mat& x) {
            // q/k/v (and gate/up) see the same input: count it once, at the first of them.
            if (role == LinearRole::K || role == LinearRole::V || role == LinearRole::Up)
                return;
            cal.sites[std::size_t(inputSiteOf(role))]->add(x);
        };
        for (std::size_t s = 0; s < hidden.size(); ++s) {
            model.block(b, hidden[s], 0, nullptr, &hooks);
            if (progress)
                progress->report(0.5 * double(s + 1) / double(hidden.size()));
        }
        if (onBlock)
            onBlock(cal);
        // Outputs through the block as it is now (quantized, if onBlock replaced linears).
        for (std::size_t s = 0; s < hidden.size(); ++s) {
            hidden[s] = model.block(b, hidden[s], 0);
            if (progress)
                progress->report(0.5 + 0.5 * double(s + 1) / double(hidden.size()));
        }
    }
}

} // namespace qs::calib
