#include "core/calib/sample_batches.hpp"

#include "core/util/error.hpp"

#include <algorithm>
#include <string>

namespace qs::calib {

std::vector<SampleBatch> planSampleBatches(const std::vector<runtime::Mat>& samples, int maxRows)
{
    if (maxRows < 1)
        throw Error("sample batches: the row budget must be positive, got " + std::to_string(maxRows));
    std::vector<SampleBatch> batches;
    for (std::size_t s = 0; s < samples.size(); ++s) {
        const int len = int(samples[s].rows());
        if (len == 0)
            throw Error("sample batches: calibration sample " + std::to_string(s) + " has no tokens");
        SampleBatch* last = batches.empty() ? nullptr : &batches.back();
        if (last && last->seqLen == len && std::int64_t(last->count + 1) * len <= maxRows)
            ++last->count;
        else
            batches.push_back({s, 1, len});
    }
    return batches;
}

runtime::Mat stackBatch(const std::vector<runtime::Mat>& samples, const SampleBatch& batch)
{
    if (batch.count == 0 || batch.first + batch.count > samples.size())
        throw Error("sample batches: batch past the samples");
    if (batch.count == 1)
        return samples[batch.first];
    const auto cols = samples[batch.first].cols();
    runtime::Mat out(Eigen::Index(batch.count) * batch.seqLen, cols);
    for (std::size_t i = 0; i < batch.count; ++i) {
        const auto& s = samples[batch.first + i];
        if (s.rows() != batch.seqLen || s.cols() != cols)
            throw Error("sample batches: sample " + std::to_string(batch.first + i) + " does not match its batch");
        out.middleRows(Eigen::Index(i) * batch.seqLen, batch.seqLen) = s;
    }
    return out;
}

void unstackBatch(const runtime::Mat& stacked, const SampleBatch& batch, std::vector<runtime::Mat>& samples)
{
    if (stacked.rows() != Eigen::Index(batch.count) * batch.seqLen || batch.first + batch.count > samples.size())
        throw Error("sample batches: a stacked batch of " + std::to_string(stacked.rows()) + " rows does not match " +
                    std::to_string(batch.count) + " samples of " + std::to_string(batch.seqLen));
    for (std::size_t i = 0; i < batch.count; ++i)
        samples[batch.first + i] = stacked.middleRows(Eigen::Index(i) * batch.seqLen, batch.seqLen);
}

} // namespace qs::calib
