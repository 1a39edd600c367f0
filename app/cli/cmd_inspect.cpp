#include "commands.hpp"

#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <set>

namespace qs::cli {

std::string humanBytes(double bytes)
{
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 4) {
        bytes /= 1000.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

static nlohmann::json specJson(const model::ArchSpec& s)
{
    nlohmann::json j = {
        {"architecture", s.architecture}, {"model_type", s.modelType}, {"supported", s.supported},
        {"vocab_size", s.vocabSize}, {"hidden_size", s.hiddenSize},
        {"intermediate_size", s.intermediateSize}, {"num_layers", s.numLayers},
        {"num_heads", s.numHeads}, {"num_kv_heads", s.numKvHeads}, {"head_dim", s.headDim},
        {"max_position_embeddings", s.maxPositionEmbeddings}, {"rms_norm_eps", s.rmsNormEps},
        {"rope_theta", s.ropeTheta}, {"tie_word_embeddings", s.tieWordEmbeddings},
        {"qkv_bias", s.qkvBias}, {"qk_norm", s.qkNorm}, {"torch_dtype", s.torchDtype}};
    if (!s.supported)
        j["unsupported_reason"] = s.unsupportedReason;
    if (s.ropeScaling)
        j["rope_scaling"] = {{"type", s.ropeScaling->type}, {"factor", s.ropeScaling->factor},
                             {"low_freq_factor", s.ropeScaling->lowFreqFactor},
                             {"high_freq_factor", s.ropeScaling->highFreqFactor},
                             {"original_max_position_embeddings", s.ropeScaling->originalMaxPositionEmbeddings}};
    return j;
}

static std::string tokenizerSummary(const model::Model& m)
{
    if (m.tokenizer) {
        const auto& spec = m.tokenizer->spec();
        return std::string(spec.kind == io::TokenizerSpec::Kind::ByteLevel ? "byte-level BPE" : "sentencepiece-style BPE") +
               ", " + std::to_string(m.tokenizer->vocabSize()) + " tokens";
    }
    return m.tokenizerError.empty() ? "none" : "not loaded: " + m.tokenizerError;
}

int runInspect(const InspectOptions& o)
{
    const auto t0 = std::chrono::steady_clock::now();
    model::Model m = model::openModel(o.model);
    const double openMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const auto& ck = *m.checkpoint;
    const auto& tensors = ck.tensors();
    std::set<std::string> files;
    for (const auto& t : tensors)
        files.insert(t.file);

    if (o.json) {
        nlohmann::json j;
        j["path"] = m.source.string();
        j["format"] = ck.format();
        j["files"] = files.size();
        j["parameters"] = ck.totalParameters();
        j["bytes"] = ck.totalBytes();
        j["spec"] = specJson(m.spec);
        j["tokenizer"] = tokenizerSummary(m);
        j["open_ms"] = openMs;
        auto& arr = j["tensors"] = nlohmann::json::array();
        for (const auto& t : tensors)
            arr.push_back({{"name", t.name}, {"shape", t.shape}, {"dtype", t.dtype}, {"bytes", t.nbytes}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }

    const auto& s = m.spec;
    std::printf("Model:        %s\n", m.source.string().c_str());
    std::printf("Format:       %s, %zu file%s, opened in %.1f ms\n", ck.format().c_str(), files.size(),
                files.size() == 1 ? "" : "s", openMs);
    if (s.supported) {
        std::printf("Architecture: %s (%s)\n", s.architecture.c_str(), s.modelType.c_str());
        std::printf("Shape:        %lld layers, hidden %lld, intermediate %lld, heads %lld (kv %lld, head_dim %lld), vocab %lld, context %lld\n",
                    (long long)s.numLayers, (long long)s.hiddenSize, (long long)s.intermediateSize,
                    (long long)s.numHeads, (long long)s.numKvHeads, (long long)s.headDim,
                    (long long)s.vocabSize, (long long)s.maxPositionEmbeddings);
        std::printf("Options:      rope theta %g%s%s%s%s\n", s.ropeTheta,
                    s.ropeScaling ? (", rope scaling " + s.ropeScaling->type).c_str() : "",
                    s.tieWordEmbeddings ? ", tied embeddings" : "", s.qkvBias ? ", qkv bias" : "",
                    s.qkNorm ? ", q/k norm" : "");
    } else {
        std::printf("Architecture: %s (%s)\n", s.architecture.empty() ? "unknown" : s.architecture.c_str(),
                    s.unsupportedReason.c_str());
    }
    std::printf("Parameters:   %lld (%s)\n", (long long)ck.totalParameters(), humanBytes(double(ck.totalBytes())).c_str());
    std::printf("Tokenizer:    %s\n", tokenizerSummary(m).c_str());
    std::printf("Tensors:      %zu\n", tensors.size());
    std::size_t nameWidth = 4;
    for (const auto& t : tensors)
        nameWidth = std::max(nameWidth, t.name.size());
    std::printf("  %-*s  %-22s %-8s %s\n", int(nameWidth), "name", "shape", "dtype", "bytes");
    for (const auto& t : tensors)
        std::printf("  %-*s  %-22s %-8s %llu\n", int(nameWidth), t.name.c_str(), shapeToString(t.shape).c_str(),
                    t.dtype.c_str(), (unsigned long long)t.nbytes);
    return 0;
}

} // namespace qs::cli
