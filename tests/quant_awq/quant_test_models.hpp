#pragma once
// Models and data the AWQ and SmoothQuant suites share: a random one-block Llama without GQA
// and with q/k/v biases (so every scaling path, v -> o included, is exercised), the demo model,
// and its calibration set.
#include "common/test_support.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/runtime/transformer.hpp"

#include <random>

namespace qs::test {

inline runtime::Mat randomMat(std::mt19937& rng, int rows, int cols, float stddev = 1.0f)
{
    std::normal_distribution<float> n(0.0f, stddev);
    runtime::Mat m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = n(rng);
    return m;
}

inline runtime::Vec randomPositive(std::mt19937& rng, int n, float lo, float hi)
{
    std::uniform_real_distribution<float> u(std::log(lo), std::log(hi));
    runtime::Vec v(n);
    for (auto& x : v)
        x = std::exp(u(rng));
    return v;
}

// hidden 128, intermediate 256, 4 heads of 32, 4 kv heads (no GQA), q/k/v biases, 1 block.
inline runtime::Transformer randomNoGqaModel(std::mt19937& rng)
{
    runtime::LlamaWeights w;
    auto& s = w.spec;
    s.architecture = "LlamaForCausalLM";
    s.modelType = "qwen2";
    s.supported = true;
    s.vocabSize = 64;
    s.hiddenSize = 128;
    s.intermediateSize = 256;
    s.numLayers = 1;
    s.numHeads = 4;
    s.numKvHeads = 4;
    s.headDim = 32;
    s.maxPositionEmbeddings = 256;
    s.rmsNormEps = 1e-6;
    s.qkvBias = true;
    const int h = 128, f = 256;
    const float ws = 1.0f / std::sqrt(float(h));
    w.embedding = randomMat(rng, 64, h);
    runtime::BlockWeights b;
    using R = runtime::LinearRole;
    auto dense = [&](int out, int in, bool bias) {
        std::optional<runtime::Vec> bv;
        if (bias)
            bv = runtime::Vec(randomMat(rng, out, 1, 0.1f).col(0));
        return std::make_shared<runtime::DenseLinear>(randomMat(rng, out, in, ws), bv);
    };
    b.linear(R::Q) = dense(h, h, true);
    b.linear(R::K) = dense(h, h, true);
    b.linear(R::V) = dense(h, h, true);
    b.linear(R::O) = dense(h, h, false);
    b.linear(R::Gate) = dense(f, h, false);
    b.linear(R::Up) = dense(f, h, false);
    b.linear(R::Down) = dense(h, f, false);
    b.inputNorm = randomPositive(rng, h, 0.5f, 2.0f);
    b.postAttentionNorm = randomPositive(rng, h, 0.5f, 2.0f);
    w.blocks.push_back(std::move(b));
    w.finalNorm = runtime::Vec::Ones(h);
    w.lmHead = std::make_shared<runtime::DenseLinear>(randomMat(rng, 64, h, ws), std::nullopt);
    return runtime::Transformer(std::move(w));
}

inline std::filesystem::path demoDir() { return sourceDir() / "resources" / "demo-model"; }
inline bool haveDemo() { return std::filesystem::exists(demoDir() / "model.safetensors"); }

// 8 samples x 128 tokens of the demo's calibration text, seed 0.
inline calib::CalibrationSet demoCalibration(const model::Model& m, int samples = 8, int length = 128)
{
    const auto tokens = m.tokenizer->encode(readFile(demoDir() / "calibration.txt"));
    return calib::sampleWindows(tokens, samples, length, 0);
}

// The first ~40 KB of the evaluation text: enough for 8 windows of 256 tokens.
inline std::vector<std::int32_t> demoEvaluationTokens(const model::Model& m)
{
    return m.tokenizer->encode(readFile(demoDir() / "evaluation.txt").substr(0, 40000));
}

inline double relError(const runtime::Mat& a, const runtime::Mat& b)
{
    return double((a - b).norm()) / std::max(double(b.norm()), 1e-30);
}

} // namespace qs::test
