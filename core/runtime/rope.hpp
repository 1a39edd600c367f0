#pragma once
// Rotary position embeddings as transformers computes them, including Llama-3.1's
// frequency-dependent rope_scaling ("llama3") and linear scaling.
#include "core/model/arch_spec.hpp"
#include "core/runtime/matrix.hpp"

#include <vector>

namespace qs::runtime {

class Rope {
public:
    // interleaved: rotate pairs (2i, 2i+1) (ggml's normal mode, GGUF llama); otherwise HF's
    // rotate_half pairs (i, i + d/2).
    Rope(const model::ArchSpec& spec, bool interleaved);
    // llama.cpp's form: per-frequency divisors (GGUF tensor rope_freqs.weight, headDim/2 values)
    // replace spec.ropeScaling: inv_freq[i] = theta^(-2i/d) / factors[i].
    Rope(const model::ArchSpec& spec, bool interleaved, const std::vector<float>& freqFactors);

    // Rotates each head of x ([T][heads*headDim]) in place; row t is at position startPos + t,
    // or startPos + t % period for sequences of `period` rows stacked one after another.
    void apply(Mat& x, int heads, int startPos, int period = 0) const;

    const std::vector<double>& inverseFrequencies() const { return invFreq_; }

private:
    int headDim_;
    bool interleaved_;
    std::vector<double> invFreq_; // headDim/2
};

} // namespace qs::runtime
