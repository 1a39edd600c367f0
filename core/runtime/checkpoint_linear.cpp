#include "core/runtime/checkpoint_linear.hpp"

#include "core/util/error.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace qs::runtime {

namespace {

// The f32 weights decoded last, shared by every product until evicted: calibration runs each
// linear of a block for every sample and pass (hundreds of products), and decoding 45M f16
// values per product cost more than the product itself. Bounded in bytes
// (QS_LAZY_CACHE_BYTES, default 2 GiB: one Llama-2-7B block is 0.8 GB), least recently used
// first out. Keyed by the checkpoint object, its path and the tensor's place in its file.
class DecodedWeights {
public:
    static DecodedWeights& shared()
    {
        static DecodedWeights cache;
        return cache;
    }

    std::shared_ptr<const Mat> get(const std::string& key, const std::function<Mat()>& decode)
    {
        {
            std::lock_guard lock(mutex_);
            if (auto it = index_.find(key); it != index_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second);
                return it->second->second;
            }
        }
        auto w = std::make_shared<const Mat>(decode());  // outside the lock: slow
        const std::uint64_t bytes = std::uint64_t(w->size()) * sizeof(float);
        const std::uint64_t limit = budget();
        std::lock_guard lock(mutex_);
        if (bytes > limit || index_.count(key))
            return w;
        lru_.emplace_front(key, w);
        index_[key] = lru_.begin();
        bytes_ += bytes;
        while (bytes_ > limit && !lru_.empty()) {
            bytes_ -= std::uint64_t(lru_.back().second->size()) * sizeof(float);
            index_.erase(lru_.back().first);
            lru_.pop_back();
        }
        return w;
    }

private:
    static std::uint64_t budget()
    {
        if (const char* env = std::getenv("QS_LAZY_CACHE_BYTES")) {
            char* end = nullptr;
            const unsigned long long v = std::strtoull(env, &end, 10);
            if (end != env && *end == '\0')
                return v;
        }
        return 2ull << 30;
    }

    std::mutex mutex_;
    std::list<std::pair<std::string, std::shared_ptr<const Mat>>> lru_;  // front: most recent
    std::unordered_map<std::string, std::list<std::pair<std::string, std::shared_ptr<const Mat>>>::iterator> index_;
    std::uint64_t bytes_ = 0;
};

} // namespace

CheckpointLinear::CheckpointLinear(const io::Checkpoint& checkpoint, std::string tensor, int outFeatures,
                                   int inFeatures, std::optional<Vec> bias)
    : checkpoint_(checkpoint), tensor_(std::move(tensor)), out_(outFeatures), in_(inFeatures), bias_(std::move(bias))
{
    const auto* info = checkpoint_.find(tensor_);
    if (!info)
        throw Error(checkpoint_.path().string() + ": missing tensor " + tensor_);
    if (info->shape.size() != 2 || info->shape[0] != out_ || info->shape[1] != in_)
        throw Error(checkpoint_.path().string() + ": tensor " + tensor_ + " has shape " + shapeToString(info->shape) +
                    ", expected [" + std::to_string(out_) + ", " + std::to_string(in_) + "]");
}

Mat CheckpointLinear::weight() const
{
    const Tensor t = checkpoint_.readF32(tensor_);
    return Eigen::Map<const Mat>(t.data.data(), out_, in_);
}

void CheckpointLinear::forward(const Mat& x, Mat& y) const
{
    const auto* info = checkpoint_.find(tensor_);
    const std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(&checkpoint_)) + "|" +
                            checkpoint_.path().string() + "|" + info->file + "|" + std::to_string(info->offset) + "|" +
                            tensor_;
    const auto w = DecodedWeights::shared().get(key, [this] {
        prof::StageTimer timer("lazy.decode_weight");
        return weight();
    });
    // As DenseLinear::forward: output features split across the pool's threads.
    const Eigen::Index n = w->rows();
    y.resize(x.rows(), n);
    const std::int64_t work = std::int64_t(x.rows()) * n * w->cols();
    const std::int64_t minRows = work < (1 << 20) ? n : 64;
    ThreadPool::shared().parallelFor(
        n, [&](std::int64_t b, std::int64_t e) { y.middleCols(b, e - b).noalias() = x * w->middleRows(b, e - b).transpose(); },
        minRows);
    if (bias_)
        y.rowwise() += bias_->transpose();
}

} // namespace qs::runtime
