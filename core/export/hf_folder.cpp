#include "core/export/hf_folder.hpp"

#include "core/io/checkpoint.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/util/error.hpp"

#include <Eigen/Core>

#include <cmath>
#include <fstream>
#include <sstream>

namespace qs::exporting {

namespace fs = std::filesystem;

std::string hfLinearName(int block, runtime::LinearRole role)
{
    const bool attention = role == runtime::LinearRole::Q || role == runtime::LinearRole::K ||
                           role == runtime::LinearRole::V || role == runtime::LinearRole::O;
    return "model.layers." + std::to_string(block) + (attention ? ".self_attn." : ".mlp.") +
           runtime::linearRoleName(role);
}

float roundToHalf(float x, bool bf16) { return bf16 ? float(Eigen::bfloat16(x)) : float(Eigen::half(x)); }

namespace {

// Files beside the weights that loaders want and that the export keeps unchanged.
const char* const kCopied[] = {"tokenizer.json",      "tokenizer_config.json", "special_tokens_map.json",
                               "tokenizer.model",     "vocab.json",            "merges.txt",
                               "added_tokens.json",   "generation_config.json", "chat_template.jinja",
                               "chat_template.json"};

nlohmann::ordered_json readJson(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    if (!f)
        throw io::NotFoundError(p.string() + ": cannot be read (the HF formats copy the source's config.json)");
    std::stringstream ss;
    ss << f.rdbuf();
    try {
        return nlohmann::ordered_json::parse(ss.str());
    } catch (const std::exception& e) {
        throw io::FormatError(p.string(), std::string("invalid JSON: ") + e.what());
    }
}

void writeText(const fs::path& p, const std::string& text)
{
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f)
        throw Error(p.string() + ": write failed");
}

PlainTensor vectorTensor(const std::string& name, const runtime::Vec& v)
{
    return {name, Shape{v.size()}, std::vector<float>(v.data(), v.data() + v.size())};
}

PlainTensor matrixTensor(const std::string& name, const runtime::Mat& m)
{
    // Mat is row-major (runtime/matrix.hpp), so data() is already [rows][cols].
    return {name, Shape{m.rows(), m.cols()}, std::vector<float>(m.data(), m.data() + m.size())};
}

} // namespace

HfFolderWriter::HfFolderWriter(const fs::path& sourceFolder, bool bf16) : source_(sourceFolder), bf16_(bf16)
{
    config_ = readJson(source_ / "config.json");
    config_.erase("quantization_config");
    const char* dtype = bf16 ? "bfloat16" : "float16";
    config_["torch_dtype"] = dtype;
    if (config_.contains("dtype"))
        config_["dtype"] = dtype;
    for (const char* name : kCopied)
        if (fs::is_regular_file(source_ / name))
            copies_.push_back(source_ / name);
}

void HfFolderWriter::addPlain(PlainTensor t)
{
    std::vector<std::uint16_t> bits(t.values.size());
    for (std::size_t i = 0; i < bits.size(); ++i)
        bits[i] = bf16_ ? Eigen::numext::bit_cast<std::uint16_t>(Eigen::bfloat16(t.values[i]))
                        : Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(t.values[i]));
    tensors_.addArray(t.name, bf16_ ? DType::BF16 : DType::F16, t.shape, bits);
    plain_.push_back(std::move(t));
}

void HfFolderWriter::addUnquantized(const runtime::LlamaWeights& w)
{
    addPlain(matrixTensor("model.embed_tokens.weight", w.embedding));
    for (std::size_t i = 0; i < w.blocks.size(); ++i) {
        const auto& b = w.blocks[i];
        const std::string p = "model.layers." + std::to_string(i) + ".";
        addPlain(vectorTensor(p + "input_layernorm.weight", b.inputNorm));
        addPlain(vectorTensor(p + "post_attention_layernorm.weight", b.postAttentionNorm));
        if (b.qNorm)
            addPlain(vectorTensor(p + "self_attn.q_norm.weight", *b.qNorm));
        if (b.kNorm)
            addPlain(vectorTensor(p + "self_attn.k_norm.weight", *b.kNorm));
    }
    addPlain(vectorTensor("model.norm.weight", w.finalNorm));
    if (!w.spec.tieWordEmbeddings) {
        if (!w.lmHead)
            throw Error("export: the model has no LM head and its embeddings are not tied");
        addPlain(matrixTensor("lm_head.weight", quant::currentWeight(*w.lmHead)));
    }
}

void HfFolderWriter::setQuantization(const io::HfQuantConfig& c, bool writeGptqQuantizeConfig)
{
    config_["quantization_config"] = io::quantizationConfigJson(c);
    if (writeGptqQuantizeConfig)
        quantizeConfig_ = io::gptqQuantizeConfigJson(c);
}

std::uint64_t HfFolderWriter::expectedBytes() const
{
    std::uint64_t bytes = tensors_.byteSize() + config_.dump(2).size() + 4096;
    for (const auto& c : copies_)
        bytes += fs::file_size(c);
    return bytes;
}

void HfFolderWriter::write(const fs::path& folder, const std::function<void(double)>& onProgress) const
{
    {
        std::ofstream f(folder / "model.safetensors", std::ios::binary | std::ios::trunc);
        if (!f)
            throw Error((folder / "model.safetensors").string() + ": cannot be created");
        tensors_.writeTo(f, onProgress);
        f.close();
        if (!f)
            throw Error((folder / "model.safetensors").string() + ": write failed");
    }
    writeText(folder / "config.json", config_.dump(2) + "\n");
    if (quantizeConfig_)
        writeText(folder / "quantize_config.json", quantizeConfig_->dump(2) + "\n");
    for (const auto& c : copies_)
        fs::copy_file(c, folder / c.filename(), fs::copy_options::overwrite_existing);
}

int HfFolderWriter::verifyPlain(const io::Checkpoint& reopened, double& maxRelError) const
{
    int count = 0;
    for (const auto& t : plain_) {
        const Tensor got = reopened.readF32(t.name);
        if (got.shape != t.shape)
            throw Error(reopened.path().string() + ": tensor " + t.name + " reads back with shape " +
                        shapeToString(got.shape) + ", written " + shapeToString(t.shape));
        double maxAbs = 0, maxDiff = 0;
        for (std::size_t i = 0; i < t.values.size(); ++i) {
            if (got.data[i] != roundToHalf(t.values[i], bf16_) &&
                !(std::isnan(got.data[i]) && std::isnan(t.values[i])))
                throw Error(reopened.path().string() + ": tensor " + t.name + " element " + std::to_string(i) +
                            " reads back as " + std::to_string(got.data[i]) + ", written " +
                            std::to_string(roundToHalf(t.values[i], bf16_)));
            maxAbs = std::max(maxAbs, double(std::abs(t.values[i])));
            maxDiff = std::max(maxDiff, double(std::abs(got.data[i] - t.values[i])));
        }
        if (maxAbs > 0)
            maxRelError = std::max(maxRelError, maxDiff / maxAbs);
        ++count;
    }
    return count;
}

} // namespace qs::exporting
