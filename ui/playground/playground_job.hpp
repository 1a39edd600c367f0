#pragma once
// The playground's worker side (no widgets): load the original model, quantize a copy with one
// method, and stream a generation as decoded text. Every function runs on a worker thread and
// is cancelled through its Progress (jobs::Cancelled is thrown out).
#include "core/jobs/progress.hpp"
#include "core/model/model.hpp"
#include "core/quant/quant_config.hpp"
#include "core/runtime/generate.hpp"

#include <functional>
#include <memory>
#include <string>

namespace qs::ui {

using TransformerPtr = std::shared_ptr<const runtime::Transformer>;

// The unquantized model, f32.
TransformerPtr loadOriginalTransformer(const model::Model& model, jobs::Progress& progress);

// A fresh copy of the model quantized with config; calibrated on the demo model's
// calibration.txt with the named preset ("tiny", "quick", ...) when the method needs it.
TransformerPtr quantizeTransformer(const model::Model& model, const quant::QuantConfig& config,
                                   const std::string& calibrationPreset, jobs::Progress& progress);

struct GenerationStats {
    std::string text;     // the generated text alone, special tokens skipped
    int tokens = 0;
    double seconds = 0;   // prompt prefill included
    double tokensPerSecond() const { return seconds > 0 ? tokens / seconds : 0.0; }
};

// Called after each token with the text it added (may be empty while a multi-byte character is
// incomplete), the tokens so far and the seconds since generation began.
using TextSink = std::function<void(const std::string& delta, int tokens, double seconds)>;

// Encodes prompt (with BOS when the tokenizer adds one), generates with options (EOS stops it
// unless options.stopToken is already set) and streams the decoded text.
GenerationStats streamGeneration(const runtime::Transformer& transformer, const io::Tokenizer& tokenizer,
                                 const std::string& prompt, runtime::SamplingOptions options,
                                 const TextSink& onText, jobs::Progress& progress);

} // namespace qs::ui
