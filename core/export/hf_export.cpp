// The four HF folder exports: the block linears packed per format (GPTQ, AWQ GEMM, bitsandbytes
// NF4, compressed-tensors W8A8), everything else through HfFolderWriter, all written via
// writeSafely and verified by re-opening the folder with the project's own readers.
#include "core/export/hf_export.hpp"

#include "core/export/hf_folder.hpp"
#include "core/export/safe_output.hpp"
#include "core/io/hf_bnb_nf4.hpp"
#include "core/io/hf_quant_packing.hpp"
#include "core/io/raw_tensor_reader.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/w8a8_linear.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/runtime/quantized_loading.hpp"
#include "core/util/error.hpp"

#include <cmath>
#include <cstdio>

namespace qs::exporting {

namespace fs = std::filesystem;
using runtime::LinearRole;

namespace {

std::string sci(double x)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return buf;
}

const compute::WeightMatrix& packedWeightOf(const runtime::LinearOp& op, const std::string& name)
{
    if (const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op))
        return b->weight();
    if (const auto* w = dynamic_cast<const quant::W8A8Linear*>(&op))
        return w->weight();
    throw Error("export: " + name + " is a " + op.describe() + " linear, not a quantized weight; quantize the model first");
}

fs::path sourceFolder(const ExportRequest& r)
{
    if (r.source->checkpoint->format() != "safetensors")
        throw Error("export: the Hugging Face formats copy config.json and the tokenizer from a safetensors model; " +
                    r.source->source.string() + " is not one");
    return fs::is_directory(r.source->source) ? r.source->source : r.source->source.parent_path();
}

// Every linear's weight must share the format's settings: the config describes them all.
struct Uniform {
    std::string first, firstName;
    void check(const std::string& key, const std::string& name)
    {
        if (first.empty()) {
            first = key;
            firstName = name;
        } else if (key != first) {
            throw Error("export: " + name + " is " + key + " but " + firstName + " is " + first +
                        "; one quantization_config describes every linear");
        }
    }
};

std::string halfNote(bool bf16) { return std::string("embeddings, norms, lm_head and biases in ") + (bf16 ? "bf16" : "f16"); }

// One format's packing and verification of a linear.
class LinearPacker {
public:
    virtual ~LinearPacker() = default;
    virtual void add(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out) = 0;
    // Compares the re-opened linear with the in-memory one; returns max|deq diff| / max|deq|.
    virtual double verify(const io::RawTensorReader& r, const std::string& name, const runtime::LinearOp& op) = 0;
    io::HfQuantConfig config;
    std::vector<std::string> notes;
};

// GPTQ, AWQ and NF4 re-open through the runtime's own loader and must equal asExported exactly.
class LoaderVerified : public LinearPacker {
public:
    explicit LoaderVerified(ExportFormat f) : format_(f) {}
    double verify(const io::RawTensorReader& r, const std::string& name, const runtime::LinearOp& op) override
    {
        const auto& inMemory = packedWeightOf(op, name);
        const auto got = runtime::readPackedWeight(r, config, name, compute::rowsOf(inMemory), compute::colsOf(inMemory));
        std::string why;
        if (!sameWeights(got, asExported(inMemory, format_), &why))
            throw Error(r.checkpoint().path().string() + ": " + name + " reads back different from what was written: " + why);
        const runtime::Mat a = quant::dequantize(got), b = quant::dequantize(inMemory);
        const double m = b.cwiseAbs().maxCoeff();
        return m > 0 ? (a - b).cwiseAbs().maxCoeff() / m : 0.0;
    }

private:
    ExportFormat format_;
};

void addBias(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out)
{
    if (const auto bias = quant::currentBias(op))
        out.addPlain({name + ".bias", Shape{bias->size()}, std::vector<float>(bias->data(), bias->data() + bias->size())});
}

class GptqPacker : public LoaderVerified {
public:
    GptqPacker(bool v2) : LoaderVerified(ExportFormat::Gptq), v2_(v2)
    {
        config.method = io::HfQuantMethod::Gptq;
        config.gptqV2 = v2;
    }
    void add(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out) override
    {
        const auto& w = packedWeightOf(op, name);
        io::GptqLinear g;
        if (const auto* m = std::get_if<compute::IntGroupwise>(&w)) {
            g = io::toGptq(*m, v2_, name);
            uniform_.check(std::to_string(m->bits) + "-bit g" + std::to_string(m->groupSize) +
                               (m->symmetric ? " sym" : " asym") + (m->gIdx.empty() ? "" : " act-order"),
                           name);
            config.bits = m->bits;
            config.groupSize = m->groupSize;
            config.sym = m->symmetric;
            config.descAct = !m->gIdx.empty();
        } else if (const auto* q = std::get_if<compute::Int8PerChannel>(&w)) {
            g = io::toGptqInt8(*q, v2_, name);
            uniform_.check("8-bit per channel sym", name);
            config.bits = 8;
            config.groupSize = -1;
            config.sym = true;
            config.descAct = false;
        } else {
            throw Error("export gptq: " + name + " holds " + compute::formatName(w) +
                        "; GPTQ holds int2/3/4 group-wise codes or 8-bit per channel (rtn or gptq results)");
        }
        auto& st = out.tensors();
        const std::int64_t n = g.n, k = g.k, groups = g.scales.size() / std::size_t(g.n);
        st.addArray(name + ".qweight", DType::I32, Shape{k * g.bits / 32, n}, g.qweight);
        st.addArray(name + ".qzeros", DType::I32, Shape{groups, n * g.bits / 32}, g.qzeros);
        st.addArray(name + ".scales", DType::F16, Shape{groups, n}, g.scales);
        st.addArray(name + ".g_idx", DType::I32, Shape{k}, g.gIdx);
        addBias(name, op, out);
    }

private:
    bool v2_;
    Uniform uniform_;
};

class AwqPacker : public LoaderVerified {
public:
    AwqPacker() : LoaderVerified(ExportFormat::Awq) { config.method = io::HfQuantMethod::Awq; }
    void add(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out) override
    {
        const auto& w = packedWeightOf(op, name);
        const auto* m = std::get_if<compute::IntGroupwise>(&w);
        if (!m)
            throw Error("export awq: " + name + " holds " + compute::formatName(w) + "; AWQ holds int4 group-wise codes");
        const io::AwqLinear a = io::toAwq(*m, name);
        uniform_.check("4-bit g" + std::to_string(m->groupSize), name);
        config.bits = 4;
        config.groupSize = m->groupSize;
        config.zeroPoint = true;
        if (m->symmetric && !symNoted_) {
            notes.push_back("symmetric grid written with explicit zero points 8 (AWQ GEMM always stores zero points)");
            symNoted_ = true;
        }
        auto& st = out.tensors();
        const std::int64_t n = a.n, k = a.k, groups = a.groups();
        st.addArray(name + ".qweight", DType::I32, Shape{k, n / 8}, a.qweight);
        st.addArray(name + ".qzeros", DType::I32, Shape{groups, n / 8}, a.qzeros);
        st.addArray(name + ".scales", DType::F16, Shape{groups, n}, a.scales);
        addBias(name, op, out);
    }

private:
    Uniform uniform_;
    bool symNoted_ = false;
};

class Nf4Packer : public LoaderVerified {
public:
    explicit Nf4Packer(bool bf16) : LoaderVerified(ExportFormat::BnbNf4), dtype_(bf16 ? "bfloat16" : "float16")
    {
        config.method = io::HfQuantMethod::BnbNf4;
        config.computeDtype = dtype_;
    }
    void add(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out) override
    {
        const auto& w = packedWeightOf(op, name);
        const auto* m = std::get_if<compute::Nf4>(&w);
        if (!m)
            throw Error("export bnb-nf4: " + name + " holds " + compute::formatName(w) +
                        "; bitsandbytes NF4 holds nf4 results (fp4 results are kept dequantized)");
        uniform_.check(m->doubleQuant ? "nf4 double-quant" : "nf4", name);
        config.doubleQuant = m->doubleQuant;
        const io::BnbNf4Tensors t = io::toBnbNf4(*m, dtype_);
        auto& st = out.tensors();
        const std::string p = name + ".weight";
        const std::int64_t blocks = std::int64_t(m->blocks());
        st.addArray(p, DType::U8, Shape{std::int64_t(t.weight.size()), 1}, t.weight);
        if (t.nested()) {
            st.addArray(p + ".absmax", DType::U8, Shape{blocks}, t.absmaxCodes);
            st.addArray(p + ".nested_absmax", DType::F32, Shape{std::int64_t(t.nestedAbsmax.size())}, t.nestedAbsmax);
            st.addArray(p + ".nested_quant_map", DType::F32, Shape{256}, t.nestedQuantMap);
        } else {
            st.addArray(p + ".absmax", DType::F32, Shape{blocks}, t.absmax);
        }
        st.addArray(p + ".quant_map", DType::F32, Shape{16}, t.quantMap);
        const std::vector<std::uint8_t> json(t.quantStateJson.begin(), t.quantStateJson.end());
        st.addArray(p + ".quant_state.bitsandbytes__nf4", DType::U8, Shape{std::int64_t(json.size())}, json);
        addBias(name, op, out);
    }

private:
    std::string dtype_;
    Uniform uniform_;
};

// compressed-tensors int-quantized: weight int8 [N, K], weight_scale f32 [N, 1], input_scale
// f32 [1] for static activations. The runtime does not evaluate it, so it is checked tensor by
// tensor against the in-memory W8A8 linear.
class W8a8Packer : public LinearPacker {
public:
    W8a8Packer()
    {
        config.method = io::HfQuantMethod::W8A8;
        config.bits = 8;
    }
    void add(const std::string& name, const runtime::LinearOp& op, HfFolderWriter& out) override
    {
        const auto* l = dynamic_cast<const quant::W8A8Linear*>(&op);
        if (!l)
            throw Error("export w8a8: " + name + " is a " + op.describe() +
                        " linear; W8A8 holds SmoothQuant results (int8 weights and activations)");
        const auto& q = std::get<compute::Int8PerChannel>(l->weight());
        uniform_.check(l->staticScale() > 0 ? "static per-tensor activations" : "dynamic per-token activations", name);
        config.staticActivations = l->staticScale() > 0;
        auto& st = out.tensors();
        st.addArray(name + ".weight", DType::I8, Shape{q.n, q.k}, q.q);
        st.addArray(name + ".weight_scale", DType::F32, Shape{q.n, 1}, q.scale);
        if (config.staticActivations)
            st.addArray(name + ".input_scale", DType::F32, Shape{1}, std::vector<float>{l->staticScale()});
        addBias(name, op, out);
    }
    double verify(const io::RawTensorReader& r, const std::string& name, const runtime::LinearOp& op) override
    {
        const auto* l = dynamic_cast<const quant::W8A8Linear*>(&op);
        const auto& q = std::get<compute::Int8PerChannel>(l->weight());
        const std::string file = r.checkpoint().path().string() + ": ";
        if (r.array<std::int8_t>(name + ".weight", DType::I8, Shape{q.n, q.k}) != q.q)
            throw Error(file + name + ".weight reads back different from what was written");
        if (r.array<float>(name + ".weight_scale", DType::F32, Shape{q.n, 1}) != q.scale)
            throw Error(file + name + ".weight_scale reads back different from what was written");
        if (config.staticActivations &&
            r.array<float>(name + ".input_scale", DType::F32, Shape{1}) != std::vector<float>{l->staticScale()})
            throw Error(file + name + ".input_scale reads back different from what was written");
        return 0.0;
    }

private:
    Uniform uniform_;
};

ExportResult exportHf(const ExportRequest& r, ExportFormat format, LinearPacker& packer, jobs::Progress* progress)
{
    const char* fname = exportFormatName(format);
    if (!r.weights || !r.run)
        throw Error(std::string("export ") + fname + ": needs a model quantized in memory (choose a --method)");
    const fs::path source = sourceFolder(r);
    const runtime::LlamaWeights& w = *r.weights;
    const bool bf16 = r.options.bf16;
    auto report = [&](double f) {
        if (progress)
            progress->report(f);
    };
    auto stage = [&](const std::string& s) {
        if (progress)
            progress->beginStage(s);
    };

    HfFolderWriter out(source, bf16);
    stage(std::string("packing ") + fname);
    const int blocks = int(w.blocks.size());
    for (int b = 0; b < blocks; ++b) {
        for (auto role : runtime::kAllLinearRoles)
            packer.add(hfLinearName(b, role), w.blocks[std::size_t(b)].linear(role), out);
        report(double(b + 1) / blocks);
    }
    out.addUnquantized(w);
    if (format == ExportFormat::Gptq) {
        packer.config.dampPercent = std::round(double(r.run->config.damp) * 1e6) / 1e6; // 0.01, not 0.009999999776
        packer.config.trueSequential = r.run->config.trueSequential;
        packer.config.staticGroups = r.run->config.staticGroups;
    }
    out.setQuantization(packer.config, format == ExportFormat::Gptq);

    ExportResult result;
    result.path = r.output;
    result.tensors = int(out.tensors().tensorCount());
    result.bytes = writeSafely(
        r.output, OutputKind::Folder, out.expectedBytes(),
        [&](const fs::path& temp) {
            stage(std::string("writing ") + fname);
            out.write(temp, report);
        },
        [&](const fs::path& temp) {
            if (!r.options.verify)
                return;
            stage(std::string("verifying ") + fname);
            const model::Model reopened = model::openModel(temp.string());
            const auto q = runtime::checkpointQuantization(reopened);
            if (!q || q->method != packer.config.method)
                throw Error((temp / "config.json").string() + ": quantization_config does not read back as " + fname);
            const io::RawTensorReader reader(*reopened.checkpoint);
            double worst = 0;
            int verified = out.verifyPlain(*reopened.checkpoint, worst);
            for (int b = 0; b < blocks; ++b) {
                for (auto role : runtime::kAllLinearRoles) {
                    const auto name = hfLinearName(b, role);
                    worst = std::max(worst, packer.verify(reader, name, w.blocks[std::size_t(b)].linear(role)));
                    ++verified;
                }
                report(double(b + 1) / blocks);
            }
            result.tensorsVerified = verified;
            result.maxVerifyError = worst;
        });
    result.notes = packer.notes;
    result.notes.push_back(halfNote(bf16));
    if (r.options.verify)
        result.notes.push_back("re-opened: " + std::to_string(result.tensorsVerified) +
                               " tensors/linears equal what was written; worst max|written - in-memory| / max|in-memory| = " +
                               sci(result.maxVerifyError) + " (f16 rounding of scales and unquantized tensors)");
    return result;
}

} // namespace

ExportResult exportHfGptq(const ExportRequest& request, jobs::Progress* progress)
{
    GptqPacker p(request.options.gptqV2);
    p.notes.push_back(request.options.gptqV2 ? "checkpoint_format gptq_v2 (zero points stored as they are)"
                                             : "checkpoint_format gptq (AutoGPTQ v1: zero points stored minus one)");
    return exportHf(request, ExportFormat::Gptq, p, progress);
}

ExportResult exportHfAwq(const ExportRequest& request, jobs::Progress* progress)
{
    AwqPacker p;
    return exportHf(request, ExportFormat::Awq, p, progress);
}

ExportResult exportHfBnbNf4(const ExportRequest& request, jobs::Progress* progress)
{
    Nf4Packer p(request.options.bf16);
    return exportHf(request, ExportFormat::BnbNf4, p, progress);
}

ExportResult exportHfW8a8(const ExportRequest& request, jobs::Progress* progress)
{
    W8a8Packer p;
    p.notes.push_back("compressed-tensors int-quantized (vLLM int8 W8A8); SmoothQuant's smoothing is folded into the "
                      "norms and weights; layout in docs/formats/w8a8.md");
    return exportHf(request, ExportFormat::W8a8, p, progress);
}

void roundLikeHfExport(runtime::LlamaWeights& w, ExportFormat f, bool bf16)
{
    auto roundVec = [&](runtime::Vec& v) {
        for (auto& x : v)
            x = roundToHalf(x, bf16);
    };
    auto roundBias = [&](std::optional<runtime::Vec> b) {
        if (b)
            roundVec(*b);
        return b;
    };
    w.embedding = w.embedding.unaryExpr([&](float x) { return roundToHalf(x, bf16); });
    for (auto& b : w.blocks) {
        roundVec(b.inputNorm);
        roundVec(b.postAttentionNorm);
        if (b.qNorm)
            roundVec(*b.qNorm);
        if (b.kNorm)
            roundVec(*b.kNorm);
        for (auto role : runtime::kAllLinearRoles) {
            auto& slot = b.linear(role);
            if (const auto* l = dynamic_cast<const runtime::BackendLinear*>(slot.get()))
                slot = std::make_shared<runtime::BackendLinear>(
                    l->backend(), std::make_shared<const compute::WeightMatrix>(asExported(l->weight(), f)),
                    roundBias(l->bias()));
        }
    }
    roundVec(w.finalNorm);
    if (w.spec.tieWordEmbeddings)
        w.lmHead = std::make_shared<runtime::DenseLinear>(w.embedding, std::nullopt);
    else if (w.lmHead)
        w.lmHead = std::make_shared<runtime::DenseLinear>(
            quant::currentWeight(*w.lmHead).unaryExpr([&](float x) { return roundToHalf(x, bf16); }),
            roundBias(quant::currentBias(*w.lmHead)));
}

} // namespace qs::exporting
