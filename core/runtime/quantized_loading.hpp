#pragma once
// Opening Hugging Face checkpoints whose linears are stored packed (the config.json carries a
// quantization_config): GPTQ (v1/v2, 2/3/4/8 bits, act-order), AWQ GEMM and bitsandbytes NF4
// become BackendLinears holding the same codes in the kernels' formats (IntGroupwise, Int8PerChannel,
// Nf4), so the model evaluates exactly what the file stores. compressed-tensors W8A8 is refused
// here: its activation quantization lives in the quant module (W8A8Linear).
#include "core/compute/weight_formats.hpp"
#include "core/io/hf_quant_config.hpp"
#include "core/io/raw_tensor_reader.hpp"
#include "core/model/model.hpp"
#include "core/runtime/linear.hpp"

#include <memory>
#include <optional>
#include <string>

namespace qs::compute {
class Backend;
}

namespace qs::runtime {

// The quantization_config of the config.json beside a safetensors model; nullopt when there is
// none (or the model is a GGUF file). Throws io::FormatError for one that cannot be opened.
std::optional<io::HfQuantConfig> checkpointQuantization(const model::Model& model);

// The kernel-format weight of one packed linear, `prefix` being its module name
// ("model.layers.0.self_attn.q_proj"), [n out][k in]. Throws qs::Error naming the file and tensor.
compute::WeightMatrix readPackedWeight(const io::RawTensorReader& reader, const io::HfQuantConfig& config,
                                       const std::string& prefix, int n, int k);

std::shared_ptr<LinearOp> loadPackedLinear(const io::RawTensorReader& reader, const io::HfQuantConfig& config,
                                           const std::string& prefix, int n, int k, std::optional<Vec> bias,
                                           const std::shared_ptr<compute::Backend>& backend);

} // namespace qs::runtime
