#include "core/export/gguf_export.hpp"

#include "core/export/gguf_file_types.hpp"
#include "core/export/gguf_int4_blocks.hpp"
#include "core/export/gguf_llama_metadata.hpp"
#include "core/export/gguf_writer.hpp"
#include "core/export/safe_output.hpp"
#include "core/io/gguf.hpp"
#include "core/io/gguf_dequant.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

namespace qs::exporting {

namespace {

using runtime::Mat;

// What a tensor's values compare as, the sums that verification must reproduce exactly.
struct Comparison {
    double sumSqDiff = 0, sumSq = 0, maxAbsDiff = 0, maxAbs = 0;
    bool operator==(const Comparison&) const = default;
    double relRms() const { return sumSq > 0 ? std::sqrt(sumSqDiff / sumSq) : std::sqrt(sumSqDiff); }
    double relMax() const { return maxAbs > 0 ? maxAbsDiff / maxAbs : maxAbsDiff; }
};

Comparison compare(const float* expected, const float* actual, std::size_t n)
{
    Comparison c;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = double(actual[i]) - double(expected[i]);
        c.sumSqDiff += d * d;
        c.sumSq += double(expected[i]) * double(expected[i]);
        c.maxAbsDiff = std::max(c.maxAbsDiff, std::fabs(d));
        c.maxAbs = std::max(c.maxAbs, double(std::fabs(expected[i])));
    }
    return c;
}

enum class Origin { Plain, MethodLossless, MethodRequantized };

struct Planned {
    std::string name;
    std::vector<std::int64_t> dims;
    GgmlType type = GgmlType::F32;
    std::function<Mat()> values; // the in-memory values in GGUF row order, [rows][cols] (1-D: 1 x n)
    std::shared_ptr<const compute::WeightMatrix> int4; // lossless source (IntGroupwise) when set
    std::vector<int> rowOrder;
    Origin origin = Origin::Plain;
    bool fellBack = false;
    Comparison written; // filled while writing
};

using AddTensor = std::function<Planned*(std::string name, std::vector<std::int64_t> dims, int layer,
                                          std::function<Mat()> values)>;

Mat permuteRows(const Mat& m, const std::vector<int>& order)
{
    if (order.empty())
        return m;
    Mat out(m.rows(), m.cols());
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        out.row(r) = m.row(order[std::size_t(r)]);
    return out;
}

Mat permuteColumns(const Mat& m, const std::vector<int>& order)
{
    if (order.empty())
        return m;
    Mat out(m.rows(), m.cols());
    for (Eigen::Index c = 0; c < m.cols(); ++c)
        out.col(c) = m.col(order[std::size_t(c)]);
    return out;
}

Mat asRow(const runtime::Vec& v)
{
    Mat m(1, v.size());
    m.row(0) = v.transpose();
    return m;
}

std::vector<float> decode(GgmlType t, const std::vector<std::uint8_t>& blocks, std::size_t n)
{
    std::vector<float> out(n);
    if (!io::dequantizeGgml(std::uint32_t(t), blocks, out))
        throw Error("GGUF export: cannot decode " + std::string(ggmlTypeName(t)));
    return out;
}

const char* ggufLinearName(runtime::LinearRole r)
{
    static const char* names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    return names[int(r)];
}

// The 4-bit group-32 result behind a quantized linear, when it has one.
std::shared_ptr<const compute::WeightMatrix> losslessSource(const runtime::LinearOp& op)
{
    const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op);
    if (!b)
        return nullptr;
    const auto* g = std::get_if<compute::IntGroupwise>(&b->weight());
    if (!g || !mapsToGgufBlocks(*g))
        return nullptr;
    return std::make_shared<const compute::WeightMatrix>(*g);
}

std::string fmt(const char* f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// The tensors of weights held in memory (quantized by a method when quantizedRun).
void planFromWeights(const runtime::LlamaWeights& w, bool quantizedRun, bool permute, bool tied, const AddTensor& add)
{
    const model::ArchSpec& spec = w.spec;
    add("token_embd.weight", {spec.vocabSize, spec.hiddenSize}, -1, [&w] { return w.embedding; });
    for (int i = 0; i < int(spec.numLayers); ++i) {
        const runtime::BlockWeights& b = w.blocks[std::size_t(i)];
        const std::string blk = "blk." + std::to_string(i) + ".";
        add(blk + "attn_norm.weight", {spec.hiddenSize}, i, [&b] { return asRow(b.inputNorm); });
        for (runtime::LinearRole r : runtime::kAllLinearRoles) {
            const runtime::LinearOp& op = b.linear(r);
            std::vector<int> order;
            if (permute && (r == runtime::LinearRole::Q || r == runtime::LinearRole::K))
                order = llamaQkRowOrder(op.outFeatures(), int(r == runtime::LinearRole::Q ? spec.numHeads : spec.numKvHeads));
            const bool quantized = quantizedRun && !dynamic_cast<const runtime::DenseLinear*>(&op);
            Planned* p = add(blk + ggufLinearName(r) + ".weight", {op.outFeatures(), op.inFeatures()}, i,
                             [&op, order] { return permuteRows(quant::currentWeight(op), order); });
            p->rowOrder = order;
            if (quantized) {
                p->int4 = losslessSource(op);
                p->origin = p->int4 ? Origin::MethodLossless : Origin::MethodRequantized;
                if (p->int4) {
                    p->type = ggufBlockTypeFor(std::get<compute::IntGroupwise>(*p->int4));
                    p->fellBack = false;
                }
            }
            if (quant::currentBias(op))
                add(blk + ggufLinearName(r) + ".bias", {op.outFeatures()}, i,
                    [&op, order] { return permuteColumns(asRow(*quant::currentBias(op)), order); });
        }
        add(blk + "ffn_norm.weight", {spec.hiddenSize}, i, [&b] { return asRow(b.postAttentionNorm); });
        if (b.qNorm) {
            add(blk + "attn_q_norm.weight", {spec.headDim}, i, [&b] { return asRow(*b.qNorm); });
            add(blk + "attn_k_norm.weight", {spec.headDim}, i, [&b] { return asRow(*b.kNorm); });
        }
    }
    add("output_norm.weight", {spec.hiddenSize}, -1, [&w] { return asRow(w.finalNorm); });
    if (!tied)
        add("output.weight", {spec.vocabSize, spec.hiddenSize}, -1, [&w] { return quant::currentWeight(*w.lmHead); });
}

// The tensors of a checkpoint, read one at a time when written (and again when verified).
void planFromCheckpoint(const io::Checkpoint& ck, const model::ArchSpec& spec, bool fromGguf, bool permute, bool tied,
                        const AddTensor& add)
{
    auto read = [&ck](const std::string& name, std::int64_t rows, std::int64_t cols, std::vector<int> order) {
        if (!ck.find(name))
            throw Error(ck.path().string() + ": missing tensor " + name);
        return [&ck, name, rows, cols, order]() -> Mat {
            const Tensor t = ck.readF32(name);
            if (std::int64_t(t.data.size()) != rows * cols)
                throw Error(ck.path().string() + ": tensor " + name + " has shape " + shapeToString(t.shape) +
                            ", expected " + std::to_string(rows) + " x " + std::to_string(cols) + " values");
            const Mat m = Eigen::Map<const Mat>(t.data.data(), Eigen::Index(rows), Eigen::Index(cols));
            return rows == 1 ? permuteColumns(m, order) : permuteRows(m, order);
        };
    };
    auto name = [fromGguf](int i, const std::string& hf, const std::string& gg) {
        return fromGguf ? "blk." + std::to_string(i) + "." + gg : "model.layers." + std::to_string(i) + "." + hf;
    };
    static const char* hfLinear[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                     "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    const std::int64_t H = spec.hiddenSize, I = spec.intermediateSize, D = spec.headDim;
    const std::int64_t qDim = spec.numHeads * D, kvDim = spec.numKvHeads * D;
    const std::int64_t outDims[] = {qDim, kvDim, kvDim, H, I, I, H};
    const std::int64_t inDims[] = {H, H, H, qDim, H, H, I};
    add("token_embd.weight", {spec.vocabSize, H}, -1,
        read(fromGguf ? "token_embd.weight" : "model.embed_tokens.weight", spec.vocabSize, H, {}));
    for (int i = 0; i < int(spec.numLayers); ++i) {
        const std::string blk = "blk." + std::to_string(i) + ".";
        add(blk + "attn_norm.weight", {H}, i, read(name(i, "input_layernorm.weight", "attn_norm.weight"), 1, H, {}));
        for (runtime::LinearRole r : runtime::kAllLinearRoles) {
            const int ri = int(r);
            std::vector<int> order;
            if (permute && (r == runtime::LinearRole::Q || r == runtime::LinearRole::K))
                order = llamaQkRowOrder(int(outDims[ri]), int(r == runtime::LinearRole::Q ? spec.numHeads : spec.numKvHeads));
            const std::string g = ggufLinearName(r);
            add(blk + g + ".weight", {outDims[ri], inDims[ri]}, i,
                read(name(i, std::string(hfLinear[ri]) + ".weight", g + ".weight"), outDims[ri], inDims[ri], order));
            const std::string bias = name(i, std::string(hfLinear[ri]) + ".bias", g + ".bias");
            if (ck.find(bias))
                add(blk + g + ".bias", {outDims[ri]}, i, read(bias, 1, outDims[ri], order));
        }
        add(blk + "ffn_norm.weight", {H}, i, read(name(i, "post_attention_layernorm.weight", "ffn_norm.weight"), 1, H, {}));
        const std::string qn = name(i, "self_attn.q_norm.weight", "attn_q_norm.weight");
        if (spec.qkNorm || ck.find(qn)) {
            add(blk + "attn_q_norm.weight", {D}, i, read(qn, 1, D, {}));
            add(blk + "attn_k_norm.weight", {D}, i, read(name(i, "self_attn.k_norm.weight", "attn_k_norm.weight"), 1, D, {}));
        }
    }
    add("output_norm.weight", {H}, -1, read(fromGguf ? "output_norm.weight" : "model.norm.weight", 1, H, {}));
    if (!tied)
        add("output.weight", {spec.vocabSize, H}, -1, read(fromGguf ? "output.weight" : "lm_head.weight", spec.vocabSize, H, {}));
}

} // namespace

std::vector<int> llamaQkRowOrder(int rows, int heads)
{
    if (heads <= 0 || rows % (2 * heads) != 0)
        throw Error("q/k permutation: " + std::to_string(rows) + " rows do not split into " + std::to_string(heads) +
                    " heads of an even size");
    const int d = rows / heads, half = d / 2;
    std::vector<int> order(static_cast<std::size_t>(rows));
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int s = 0; s < 2; ++s)
                order[std::size_t(h * d + 2 * i + s)] = h * d + s * half + i;
    return order;
}

ExportResult exportGguf(const ExportRequest& request, jobs::Progress* progress)
{
    const model::Model& source = *request.source;
    const GgufFileType fileType = parseGgufFileType(request.ggufType);
    // A plain conversion streams tensors from the checkpoint one at a time: no model is ever held
    // in f32 (a 7B model would need 27 GB).
    const bool streaming = !request.weights;
    const model::ArchSpec& spec = streaming ? source.spec : request.weights->spec;
    if (!spec.supported)
        throw Error(source.source.string() + ": " + spec.unsupportedReason);
    const io::Checkpoint& ck = *source.checkpoint;
    const bool fromGguf = ck.format() == "gguf";
    const bool permute = ggufPermutesQk(spec) && !(streaming && fromGguf); // a GGUF source is permuted already
    const int layers = int(spec.numLayers);
    bool tied = spec.tieWordEmbeddings;
    if (streaming) {
        const bool hasOutput = ck.find(fromGguf ? "output.weight" : "lm_head.weight") != nullptr;
        if (!hasOutput && !tied && !fromGguf)
            throw Error(ck.path().string() + ": missing tensor lm_head.weight and embeddings are not tied");
        tied = !hasOutput;
    }
    ExportResult result;

    std::vector<Planned> plan;
    const AddTensor add = [&](std::string name, std::vector<std::int64_t> dims, int layer,
                              std::function<Mat()> values) -> Planned* {
        Planned p;
        p.name = std::move(name);
        const auto choice = ggufTensorType(fileType, p.name, dims, layer, layers, tied);
        p.type = choice.type;
        p.fellBack = choice.fellBack;
        p.dims = std::move(dims);
        p.values = std::move(values);
        plan.push_back(std::move(p));
        return &plan.back();
    };

    if (streaming)
        planFromCheckpoint(ck, spec, fromGguf, permute, tied, add);
    else
        planFromWeights(*request.weights, request.run != nullptr, permute, tied, add);
    const std::vector<float> ropeFactors = llama3RopeFactors(spec);
    if (!ropeFactors.empty())
        add("rope_freqs.weight", {std::int64_t(ropeFactors.size())}, -1, [&ropeFactors] {
            return Mat(Eigen::Map<const Mat>(ropeFactors.data(), 1, Eigen::Index(ropeFactors.size())));
        });

    GgufFileWriter writer;
    addModelMetadata(writer, source, spec, fileType);
    addTokenizerMetadata(writer, source, spec.vocabSize, result.notes);
    for (Planned& p : plan) {
        Planned* pp = &p;
        writer.addTensor(p.name, p.dims, p.type, [pp] {
            const Mat m = pp->values();
            std::vector<std::uint8_t> blocks =
                pp->int4 ? toGgufBlocks(std::get<compute::IntGroupwise>(*pp->int4), pp->rowOrder)
                         : quantizeRows(pp->type, std::span<const float>(m.data(), std::size_t(m.size())));
            const auto back = decode(pp->type, blocks, std::size_t(m.size()));
            pp->written = compare(m.data(), back.data(), back.size());
            return blocks;
        });
    }

    auto verify = [&](const std::filesystem::path& temp) {
        if (!request.options.verify)
            return;
        if (progress)
            progress->beginStage("verifying " + request.output.filename().string());
        const io::GgufCheckpoint ck(temp);
        const model::ArchSpec back = ck.archSpec();
        if (back.hiddenSize != spec.hiddenSize || back.numLayers != spec.numLayers || back.numHeads != spec.numHeads ||
            back.numKvHeads != spec.numKvHeads || back.intermediateSize != spec.intermediateSize ||
            back.vocabSize != spec.vocabSize || back.headDim != spec.headDim || back.tieWordEmbeddings != tied)
            throw Error(request.output.string() + ": the written metadata reads back as a different architecture");
        if (ck.hasTokenizer())
            (void)ck.tokenizerSpec(); // throws naming the file when the tokenizer metadata is malformed
        for (std::size_t i = 0; i < plan.size(); ++i) {
            const Planned& p = plan[i];
            if (progress)
                progress->report(double(i) / double(plan.size()));
            const Tensor t = ck.readF32(p.name);
            const Mat m = p.values();
            if (t.data.size() != std::size_t(m.size()))
                throw Error(request.output.string() + ": tensor " + p.name + " reads back with " +
                            std::to_string(t.data.size()) + " values, wrote " + std::to_string(m.size()));
            const Comparison c = compare(m.data(), t.data.data(), t.data.size());
            if (!(c == p.written))
                throw Error(request.output.string() + ": tensor " + p.name + " reads back different from what was written");
            result.maxVerifyError = std::max(result.maxVerifyError, c.relMax());
            ++result.tensorsVerified;
        }
        if (progress)
            progress->report(1.0);
    };

    result.path = request.output;
    result.bytes = writeSafely(request.output, OutputKind::File, writer.fileBytes(),
                               [&](const std::filesystem::path& temp) { writer.write(temp, progress, request.output.filename().string()); }, verify);
    result.tensors = int(writer.tensorCount());

    // What the file holds compared with the in-memory model.
    int lossless = 0, requantized = 0, fellBack = 0;
    Comparison losslessSum, requantSum;
    double losslessWorst = 0;
    std::map<std::string, int> requantTypes;
    for (const Planned& p : plan) {
        fellBack += p.fellBack ? 1 : 0;
        const auto add = [](Comparison& a, const Comparison& b) {
            a.sumSqDiff += b.sumSqDiff;
            a.sumSq += b.sumSq;
            a.maxAbsDiff = std::max(a.maxAbsDiff, b.maxAbsDiff);
            a.maxAbs = std::max(a.maxAbs, b.maxAbs);
        };
        if (p.origin == Origin::MethodLossless) {
            ++lossless;
            add(losslessSum, p.written);
            losslessWorst = std::max(losslessWorst, p.written.relMax());
        } else if (p.origin == Origin::MethodRequantized) {
            ++requantized;
            add(requantSum, p.written);
            ++requantTypes[std::string(ggmlTypeName(p.type))];
        }
    }
    if (lossless > 0)
        result.notes.push_back(std::to_string(lossless) +
                               " linears written as Q4_0/Q4_1 from their int4 g32 codes without requantizing; f16 "
                               "scales change the weights by " +
                               fmt("%.2e", losslessSum.relRms()) + " relative RMS (worst tensor max " +
                               fmt("%.2e", losslessWorst) + " of its max |w|)");
    if (requantized > 0) {
        std::string types;
        for (const auto& [t, n] : requantTypes)
            types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + t;
        result.notes.push_back(std::to_string(requantized) + " quantized linears do not map onto GGUF blocks (" +
                               (request.run ? request.run->config.describe() : std::string()) + ") and were requantized (" +
                               types + "): added error " + fmt("%.3e", requantSum.relRms()) +
                               " relative RMS against the method's weights");
    }
    if (request.run && (request.run->config.method == "smoothquant" || request.run->config.method == "absmax"))
        result.notes.push_back("GGUF has no activation quantization: the file holds the method's weights (smoothing "
                               "folded into the norms), activations run in float in llama.cpp");
    if (fellBack > 0)
        result.notes.push_back(std::to_string(fellBack) + " tensors have rows that are not a multiple of their type's "
                               "block and fell back as llama.cpp does (Q4_K -> Q5_0, Q6_K -> Q8_0, else F16)");
    return result;
}

} // namespace qs::exporting
