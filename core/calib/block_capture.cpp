#include "core/calib/block_capture.hpp"

#include "core/calib/sample_batches.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
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

LinearInputStats::LinearInputStats(int channels, bool hessian, int maxSampleRows, std::uint64_t seed,
                                   std::shared_ptr<compute::Backend> backend, int batchRows,
                                   compute::HessianInputs hessianInputs)
    : absmax_(runtime::Vec::Zero(channels)), sumAbs_(Eigen::VectorXd::Zero(channels)),
      sumSquare_(Eigen::VectorXd::Zero(channels)), hessianOn_(hessian), maxSampleRows_(maxSampleRows),
      rngState_(seed)
{
    if (hessianOn_ && backend) {
        backend_ = std::move(backend);
        sum_ = std::make_unique<compute::BatchedHessianSum>(*backend_, channels, batchRows, hessianInputs);
    } else if (hessianOn_) {
        xtx_ = Mat::Zero(channels, channels);
    }
}

void LinearInputStats::add(const Mat& x)
{
    if (x.rows() == 0)
        return;
    tokens_ += x.rows();
    {
        // Per-column statistics in one pass over the rows: fixed chunks of rows on the pool's
        // threads (row-major: each chunk reads its rows once, contiguously), f32 partial sums per
        // chunk added into the f64 totals in chunk order, so the result does not depend on the
        // thread count.
        prof::StageTimer timer("capture.channel_stats");
        const Eigen::Index cols = x.cols();
        constexpr Eigen::Index kChunkRows = 256;
        const Eigen::Index chunks = (x.rows() + kChunkRows - 1) / kChunkRows;
        Eigen::ArrayXXf partMax(cols, chunks), partAbs(cols, chunks), partSq(cols, chunks);
        ThreadPool::shared().parallelFor(
            chunks,
            [&](std::int64_t c0, std::int64_t c1) {
                for (std::int64_t c = c0; c < c1; ++c) {
                    auto mx = partMax.col(c);
                    auto sa = partAbs.col(c);
                    auto sq = partSq.col(c);
                    mx.setZero();
                    sa.setZero();
                    sq.setZero();
                    const Eigen::Index end = std::min<Eigen::Index>(x.rows(), (c + 1) * kChunkRows);
                    for (Eigen::Index r = c * kChunkRows; r < end; ++r) {
                        const Eigen::ArrayXf a = x.row(r).transpose().array().abs();
                        mx = mx.max(a);
                        sa += a;
                        sq += a * a;
                    }
                }
            },
            x.size() < (1 << 16) ? chunks : 1);
        for (Eigen::Index c = 0; c < chunks; ++c) {
            absmax_ = absmax_.cwiseMax(partMax.col(c).matrix());
            sumAbs_ += partAbs.col(c).matrix().cast<double>();
            sumSquare_ += partSq.col(c).matrix().cast<double>();
        }
    }
    if (hessianOn_ && sum_) {
        prof::StageTimer timer("capture.hessian");
        sum_->add(x.data(), int(x.rows()));
    } else if (hessianOn_) {
        prof::StageTimer timer("capture.hessian");
        xtx_.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
    }
    // Reservoir sampling keeps a uniform sample of all rows seen, whatever their number.
    if (maxSampleRows_ > 0) {
        prof::StageTimer timer("capture.sample");
        std::mt19937_64 rng(rngState_);
        Eigen::Index r = 0;
        if (sample_.rows() < maxSampleRows_) {
            // Filling: the first rows are taken whole (one resize per batch, no draws).
            const Eigen::Index take = std::min<Eigen::Index>(maxSampleRows_ - sample_.rows(), x.rows());
            const Eigen::Index have = sample_.rows();
            sample_.conservativeResize(have + take, x.cols());
            sample_.middleRows(have, take) = x.topRows(take);
            r = take;
            seenRows_ += take;
        }
        for (; r < x.rows(); ++r, ++seenRows_) {
            const auto j = std::uniform_int_distribution<std::int64_t>(0, seenRows_)(rng);
            if (j < maxSampleRows_)
                sample_.row(Eigen::Index(j)) = x.row(r);
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
    if (sum_) {
        Mat h(channels(), channels());
        {
            prof::StageTimer timer("capture.hessian_read");
            sum_->read(h.data());
        }
        return h * (2.0f / float(tokens_));
    }
    Mat h = xtx_.selfadjointView<Eigen::Lower>();
    return h * (2.0f / float(tokens_));
}

void streamCalibration(runtime::Transformer& model, const CalibrationSet& set, const CaptureOptions& options,
                       const std::function<void(BlockCalibration&)>& onBlock, jobs::Progress* progress,
                       const std::function<void(int)>& onBlockDone)
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
            cal.sites[std::size_t(s)].emplace(channels[s], options.hessian && ((options.hessianSites >> s) & 1u),
                                              options.maxSampleRows,
                                              options.seed * 1000003u + std::uint64_t(b) * 4u + std::uint64_t(s),
                                              options.backend, options.hessianBatchRows, options.hessianInputs);
        runtime::ForwardHooks hooks;
        hooks.onLinearInput = [&](int, LinearRole role, const Mat& x) {
            // q/k/v (and gate/up) see the same input: count it once, at the first of them.
            if (role == LinearRole::K || role == LinearRole::V || role == LinearRole::Up)
                return;
            cal.sites[std::size_t(inputSiteOf(role))]->add(x);
        };
        // Samples stacked into batches: each linear runs once per batch (sample_batches.hpp).
        const auto batches = planSampleBatches(hidden, options.batchRows > 0 ? options.batchRows : kDefaultBatchRows);
        prof::StageTimer captureTimer("calib.capture_pass");
        for (const auto& batch : batches) {
            model.blockStacked(b, stackBatch(hidden, batch), batch.seqLen, &hooks);
            if (progress)
                progress->report(0.5 * double(batch.first + batch.count) / double(hidden.size()));
        }
        captureTimer.stop();
        if (onBlock) {
            prof::StageTimer methodTimer("calib.method_block");
            onBlock(cal);
        }
        // Outputs through the block as it is now (quantized, if onBlock replaced linears).
        prof::StageTimer outputTimer("calib.output_pass");
        for (const auto& batch : batches) {
            unstackBatch(model.blockStacked(b, stackBatch(hidden, batch), batch.seqLen), batch, hidden);
            if (progress)
                progress->report(0.5 + 0.5 * double(batch.first + batch.count) / double(hidden.size()));
        }
        outputTimer.stop();
        if (onBlockDone)
            onBlockDone(b);
    }
}

} // namespace qs::calib
