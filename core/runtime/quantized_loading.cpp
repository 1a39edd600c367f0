#include "core/runtime/quantized_loading.hpp"

#include "core/compute/backend.hpp"
#include "core/io/hf_bnb_nf4.hpp"
#include "core/io/hf_quant_packing.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <filesystem>

namespace qs::runtime {

namespace fs = std::filesystem;

std::optional<io::HfQuantConfig> checkpointQuantization(const model::Model& model)
{
    if (!model.checkpoint || model.checkpoint->format() != "safetensors")
        return std::nullopt;
    const fs::path folder = fs::is_directory(model.source) ? model.source : model.source.parent_path();
    const fs::path config = folder / "config.json";
    if (!fs::exists(config))
        return std::nullopt;
    return io::readQuantizationConfig(config);
}

namespace {

std::vector<std::uint16_t> halfBits(const io::RawTensorReader& r, const std::string& name, const Shape& shape)
{
    return r.array<std::uint16_t>(name, DType::F16, shape);
}

compute::WeightMatrix readGptq(const io::RawTensorReader& r, const io::HfQuantConfig& c, const std::string& p, int n,
                               int k, const std::string& what)
{
    const int bits = c.bits;
    const int group = c.groupSize == -1 ? k : c.groupSize;
    if (group <= 0 || k % group != 0)
        throw Error(what + ": group_size " + std::to_string(c.groupSize) + " does not divide " + std::to_string(k));
    if ((std::int64_t(k) * bits) % 32 != 0 || (std::int64_t(n) * bits) % 32 != 0)
        throw Error(what + ": [" + std::to_string(n) + ", " + std::to_string(k) + "] does not pack into 32-bit words at " +
                    std::to_string(bits) + " bits");
    const std::int64_t groups = k / group;
    io::GptqLinear g;
    g.n = n;
    g.k = k;
    g.bits = bits;
    g.groupSize = group;
    g.qweight = r.array<std::int32_t>(p + ".qweight", DType::I32, Shape{std::int64_t(k) * bits / 32, n});
    g.qzeros = r.array<std::int32_t>(p + ".qzeros", DType::I32, Shape{groups, std::int64_t(n) * bits / 32});
    g.scales = halfBits(r, p + ".scales", Shape{groups, n});
    if (r.has(p + ".g_idx"))
        g.gIdx = r.array<std::int32_t>(p + ".g_idx", DType::I32, Shape{k});
    else
        for (int j = 0; j < k; ++j)
            g.gIdx.push_back(j / group);
    if (bits == 8)
        return io::fromGptqInt8(g, c.gptqV2, what);
    return io::fromGptq(g, c.gptqV2, c.sym, what);
}

compute::WeightMatrix readAwq(const io::RawTensorReader& r, const io::HfQuantConfig& c, const std::string& p, int n,
                              int k, const std::string& what)
{
    const int group = c.groupSize == -1 ? k : c.groupSize;
    if (group <= 0 || k % group != 0 || n % 8 != 0)
        throw Error(what + ": AWQ needs N % 8 == 0 and a group size dividing K");
    const std::int64_t groups = k / group;
    io::AwqLinear a;
    a.n = n;
    a.k = k;
    a.groupSize = group;
    a.qweight = r.array<std::int32_t>(p + ".qweight", DType::I32, Shape{k, n / 8});
    a.qzeros = r.array<std::int32_t>(p + ".qzeros", DType::I32, Shape{groups, n / 8});
    a.scales = halfBits(r, p + ".scales", Shape{groups, n});
    return io::fromAwq(a, what);
}

compute::WeightMatrix readBnb(const io::RawTensorReader& r, const std::string& p, int n, int k, const std::string& what)
{
    const std::string w = p + ".weight";
    const std::int64_t count = std::int64_t(n) * k;
    const std::int64_t blocks = count / compute::Nf4::kBlockSize;
    io::BnbNf4Tensors t;
    t.weight = r.bytes(w, {DType::U8}, Shape{(count + 1) / 2, 1});
    const auto stateBytes = r.bytes(w + ".quant_state.bitsandbytes__nf4", {DType::U8});
    t.quantStateJson.assign(stateBytes.begin(), stateBytes.end());
    t.quantMap = r.array<float>(w + ".quant_map", DType::F32, Shape{16});
    if (r.has(w + ".nested_absmax")) {
        t.absmaxCodes = r.bytes(w + ".absmax", {DType::U8}, Shape{blocks});
        const std::int64_t nested = (blocks + compute::Nf4::kDoubleQuantBlock - 1) / compute::Nf4::kDoubleQuantBlock;
        t.nestedAbsmax = r.array<float>(w + ".nested_absmax", DType::F32, Shape{nested});
        t.nestedQuantMap = r.array<float>(w + ".nested_quant_map", DType::F32, Shape{256});
    } else {
        t.absmax = r.array<float>(w + ".absmax", DType::F32, Shape{blocks});
    }
    if (k % compute::Nf4::kBlockSize != 0)
        throw Error(what + ": " + std::to_string(k) + " input features are not a multiple of the NF4 block (64)");
    return io::fromBnbNf4(t, n, k, what);
}

} // namespace

compute::WeightMatrix readPackedWeight(const io::RawTensorReader& reader, const io::HfQuantConfig& config,
                                       const std::string& prefix, int n, int k)
{
    const std::string what = reader.checkpoint().path().string() + ": " + prefix;
    switch (config.method) {
    case io::HfQuantMethod::Gptq: return readGptq(reader, config, prefix, n, k, what);
    case io::HfQuantMethod::Awq: return readAwq(reader, config, prefix, n, k, what);
    case io::HfQuantMethod::BnbNf4: return readBnb(reader, prefix, n, k, what);
    case io::HfQuantMethod::W8A8: break;
    }
    throw Error(what + ": compressed-tensors W8A8 checkpoints are not evaluated by the runtime (activation "
                       "quantization lives in the quant module); their tensors are still readable");
}

std::shared_ptr<LinearOp> loadPackedLinear(const io::RawTensorReader& reader, const io::HfQuantConfig& config,
                                           const std::string& prefix, int n, int k, std::optional<Vec> bias,
                                           const std::shared_ptr<compute::Backend>& backend)
{
    // Linears a quantizer left alone (modules_to_not_convert) keep a plain float weight.
    const io::TensorInfo* plain = reader.checkpoint().find(prefix + ".weight");
    const bool packed = config.method == io::HfQuantMethod::BnbNf4 ? (plain && plain->dtype == "U8")
                                                                   : reader.has(prefix + ".qweight");
    if (!packed && plain && (plain->dtype == "F16" || plain->dtype == "BF16" || plain->dtype == "F32")) {
        const Tensor t = reader.checkpoint().readF32(prefix + ".weight");
        if (t.shape != Shape{n, k})
            throw Error(reader.checkpoint().path().string() + ": tensor " + prefix + ".weight has shape " +
                        shapeToString(t.shape) + ", expected [" + std::to_string(n) + ", " + std::to_string(k) + "]");
        return std::make_shared<DenseLinear>(Eigen::Map<const Mat>(t.data.data(), n, k), std::move(bias));
    }
    auto w = std::make_shared<const compute::WeightMatrix>(readPackedWeight(reader, config, prefix, n, k));
    return std::make_shared<BackendLinear>(backend, std::move(w), std::move(bias));
}

} // namespace qs::runtime
