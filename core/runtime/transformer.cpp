#include "core/runtime/transformer.hpp"

#include "core/compute/cpu/attention.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"
#include "core/util/stage_timer.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>

namespace qs::runtime {

namespace {
Rope makeRope(const LlamaWeights& w)
{
    return w.ropeFreqFactors.empty() ? Rope(w.spec, w.ropeInterleaved)
                                     : Rope(w.spec, w.ropeInterleaved, w.ropeFreqFactors);
}
} // namespace

Transformer::Transformer(LlamaWeights weights) : w_(std::move(weights)), rope_(makeRope(w_)) {}

namespace {

// Rows per thread for row-wise elementwise work on [T][cols]: a whole batch stays on this
// thread when it is small (decode).
std::int64_t rowGrain(Eigen::Index rows, Eigen::Index cols)
{
    return std::int64_t(rows) * std::int64_t(cols) < (1 << 16) ? std::max<std::int64_t>(1, rows) : 8;
}

} // namespace

void Transformer::rmsNorm(Mat& x, const Vec& weight, double eps)
{
    prof::StageTimer timer("fwd.rmsnorm");
    // Rows split across the pool's threads (each row as one thread would compute it).
    ThreadPool::shared().parallelFor(
        x.rows(),
        [&](std::int64_t t0, std::int64_t t1) {
            for (Eigen::Index t = t0; t < t1; ++t) {
                auto row = x.row(t);
                const float meanSquare = row.squaredNorm() / float(row.size());
                const float inv = 1.0f / std::sqrt(meanSquare + float(eps));
                row = (row * inv).cwiseProduct(weight.transpose());
            }
        },
        rowGrain(x.rows(), x.cols()));
}

Mat Transformer::embed(std::span<const std::int32_t> tokens) const
{
    Mat h(Eigen::Index(tokens.size()), w_.embedding.cols());
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        const auto id = tokens[t];
        if (id < 0 || id >= w_.embedding.rows())
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                        std::to_string(w_.embedding.rows()));
        h.row(Eigen::Index(t)) = w_.embedding.row(id);
    }
    return h;
}

// Linears that read the same x (q/k/v, gate/up): the hooks see x once per role, in order, then
// the products run together where every linear is on the same backend (x goes to a GPU once).
static void runLinearsSharingInput(const BlockWeights& b, int index, std::initializer_list<LinearRole> roles,
                                   const Mat& x, std::initializer_list<Mat*> ys, const ForwardHooks* hooks)
{
    if (hooks && hooks->onLinearInput) {
        prof::StageTimer timer("fwd.hooks");
        for (LinearRole role : roles)
            hooks->onLinearInput(index, role, x);
    }
    prof::StageTimer timer("fwd.linear");
    const BackendLinear* onBackend[8];
    std::size_t n = 0;
    for (LinearRole role : roles)
        if (const auto* l = dynamic_cast<const BackendLinear*>(&b.linear(role)); l && n < 8)
            onBackend[n++] = l;
    if (n == roles.size() &&
        BackendLinear::forwardShared(std::span(onBackend, n), x, std::span(ys.begin(), n)))
        return;
    auto y = ys.begin();
    for (LinearRole role : roles)
        b.linear(role).forward(x, **y++);
}

static void runLinear(const BlockWeights& b, int index, LinearRole role, const Mat& x, Mat& y, const ForwardHooks* hooks)
{
    if (hooks && hooks->onLinearInput) {
        prof::StageTimer timer("fwd.hooks");
        hooks->onLinearInput(index, role, x);
    }
    prof::StageTimer timer("fwd.linear");
    b.linear(role).forward(x, y);
}

// Per-head RMSNorm over head_dim (Qwen3's q_norm / k_norm).
static void headNorm(Mat& x, int heads, int headDim, const Vec& weight, double eps)
{
    for (Eigen::Index t = 0; t < x.rows(); ++t)
        for (int h = 0; h < heads; ++h) {
            auto seg = x.row(t).segment(Eigen::Index(h) * headDim, headDim);
            const float inv = 1.0f / std::sqrt(seg.squaredNorm() / float(headDim) + float(eps));
            seg = (seg * inv).cwiseProduct(weight.transpose());
        }
}

// The GPU that runs a block's attention: the backend of its q_proj when that is a GPU, for
// more than a few queries (a decode step's handful of products stays on the host rather than
// uploading the whole KV cache); nullptr: the host.
static compute::Backend* attentionBackend(const BlockWeights& b, Eigen::Index queries)
{
    constexpr Eigen::Index kMinGpuQueries = 16;
    const auto* q = dynamic_cast<const BackendLinear*>(&b.linear(LinearRole::Q));
    return q && q->backend()->isGpu() && queries >= kMinGpuQueries ? q->backend().get() : nullptr;
}

Mat Transformer::attention(int index, const Mat& x, int startPos, KvCache* cache, const ForwardHooks* hooks) const
{
    return attend(index, x, startPos, cache, hooks, 0);
}

Mat Transformer::attentionStacked(int index, const Mat& x, int seqLen, const ForwardHooks* hooks) const
{
    checkStacked(x, seqLen);
    return attend(index, x, 0, nullptr, hooks, seqLen);
}

void Transformer::checkStacked(const Mat& x, int seqLen)
{
    if (seqLen <= 0 || x.rows() % seqLen != 0)
        throw Error("stacked sequences: " + std::to_string(x.rows()) + " rows are not whole sequences of " +
                    std::to_string(seqLen));
}

Mat Transformer::attend(int index, const Mat& x, int startPos, KvCache* cache, const ForwardHooks* hooks, int seqLen) const
{
    const auto& s = w_.spec;
    const auto& b = w_.blocks[std::size_t(index)];
    const int heads = int(s.numHeads), kvHeads = int(s.numKvHeads), D = int(s.headDim);
    const Eigen::Index T = x.rows();

    Mat q, k, v;
    runLinearsSharingInput(b, index, {LinearRole::Q, LinearRole::K, LinearRole::V}, x, {&q, &k, &v}, hooks);
    if (b.qNorm) {
        headNorm(q, heads, D, *b.qNorm, s.rmsNormEps);
        headNorm(k, kvHeads, D, *b.kNorm, s.rmsNormEps);
    }
    {
        prof::StageTimer timer("fwd.rope");
        rope_.apply(q, heads, startPos, seqLen);
        rope_.apply(k, kvHeads, startPos, seqLen);
    }
    // Keys and values of every position visible to these queries.
    const Mat* K = &k;
    const Mat* V = &v;
    if (cache) {
        if (cache->keys.size() != w_.blocks.size()) {
            cache->keys.resize(w_.blocks.size());
            cache->values.resize(w_.blocks.size());
        }
        Mat& ck = cache->keys[std::size_t(index)];
        Mat& cv = cache->values[std::size_t(index)];
        const Eigen::Index old = ck.rows();
        ck.conservativeResize(old + T, k.cols());
        cv.conservativeResize(old + T, v.cols());
        ck.bottomRows(T) = k;
        cv.bottomRows(T) = v;
        K = &ck;
        V = &cv;
    }
    // Stacked sequences: one sample per seqLen rows, each attending to its own keys only.
    const int samples = seqLen > 0 ? int(T / seqLen) : 1;
    const compute::AttentionShape shape{samples, int(T / samples), int(K->rows() / samples), heads, kvHeads, D};
    Mat out(T, Eigen::Index(heads) * D);
    compute::Backend* gpu = attentionBackend(b, T);
    prof::StageTimer attendTimer(gpu ? "fwd.attention_gpu" : "fwd.attention_cpu");
    if (gpu)
        gpu->attention(shape, q.data(), K->data(), V->data(), out.data());
    else
        compute::causalAttention(shape, q.data(), K->data(), V->data(), out.data());
    attendTimer.stop();
    Mat y;
    runLinear(b, index, LinearRole::O, out, y, hooks);
    return y;
}

Mat Transformer::mlp(int index, const Mat& x, const ForwardHooks* hooks) const
{
    const auto& b = w_.blocks[std::size_t(index)];
    Mat gate, up, y;
    runLinearsSharingInput(b, index, {LinearRole::Gate, LinearRole::Up}, x, {&gate, &up}, hooks);
    // SwiGLU: silu(gate) * up.
    {
        prof::StageTimer timer("fwd.silu");
        ThreadPool::shared().parallelFor(
            gate.rows(),
            [&](std::int64_t t0, std::int64_t t1) {
                auto g = gate.middleRows(t0, t1 - t0).array();
                g = (g / (1.0f + (-g).exp())) * up.middleRows(t0, t1 - t0).array();
            },
            rowGrain(gate.rows(), gate.cols()));
    }
    runLinear(b, index, LinearRole::Down, gate, y, hooks);
    return y;
}

Mat Transformer::block(int index, const Mat& hidden, int startPos, KvCache* cache, const ForwardHooks* hooks) const
{
    return runBlock(index, hidden, startPos, cache, hooks, 0);
}

Mat Transformer::blockStacked(int index, const Mat& hidden, int seqLen, const ForwardHooks* hooks) const
{
    checkStacked(hidden, seqLen);
    return runBlock(index, hidden, 0, nullptr, hooks, seqLen);
}

Mat Transformer::runBlock(int index, const Mat& hidden, int startPos, KvCache* cache, const ForwardHooks* hooks,
                          int seqLen) const
{
    prof::StageTimer total("fwd.block_total");
    const auto& b = w_.blocks[std::size_t(index)];
    Mat x = hidden;
    rmsNorm(x, b.inputNorm, w_.spec.rmsNormEps);
    Mat h = hidden + attend(index, x, startPos, cache, hooks, seqLen);
    x = h;
    rmsNorm(x, b.postAttentionNorm, w_.spec.rmsNormEps);
    h += mlp(index, x, hooks);
    if (hooks && hooks->onBlockOutput) {
        prof::StageTimer timer("fwd.hooks");
        hooks->onBlockOutput(index, h);
    }
    return h;
}

Mat Transformer::logits(const Mat& hidden) const
{
    Mat x = hidden;
    rmsNorm(x, w_.finalNorm, w_.spec.rmsNormEps);
    Mat y;
    prof::StageTimer timer("fwd.lm_head");
    w_.lmHead->forward(x, y);
    return y;
}

Mat Transformer::forward(std::span<const std::int32_t> tokens, KvCache* cache, const ForwardHooks* hooks) const
{
    const int startPos = cache ? cache->length : 0;
    if (cache && cache->keys.size() != w_.blocks.size()) {
        cache->keys.assign(w_.blocks.size(), Mat());
        cache->values.assign(w_.blocks.size(), Mat());
    }
    Mat h = embed(tokens);
    for (int i = 0; i < int(w_.blocks.size()); ++i)
        h = block(i, h, startPos, cache, hooks);
    if (cache)
        cache->length += int(tokens.size());
    return logits(h);
}

} // namespace qs::runtime
