#include "core/export/gguf_file_types.hpp"

#include "core/util/error.hpp"

#include <array>

namespace qs::exporting {

namespace {

const std::array<GgufFileType, 9> kFileTypes{{
    {"F32", 0, GgmlType::F32, false},
    {"F16", 1, GgmlType::F16, false},
    {"BF16", 32, GgmlType::BF16, false},
    {"Q8_0", 7, GgmlType::Q8_0, false},
    {"Q4_0", 2, GgmlType::Q4_0, false},
    {"Q4_1", 3, GgmlType::Q4_1, false},
    {"Q5_0", 8, GgmlType::Q5_0, false},
    {"Q4_K_M", 15, GgmlType::Q4_K, true},
    {"Q6_K", 18, GgmlType::Q6_K, false},
}};

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isQuantized(GgmlType t)
{
    return t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16;
}

} // namespace

const std::vector<std::string>& ggufFileTypeNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& t : kFileTypes)
            v.push_back(t.name);
        return v;
    }();
    return names;
}

GgufFileType parseGgufFileType(const std::string& name)
{
    const std::string n = name == "Q4_K" ? "Q4_K_M" : name;
    for (const auto& t : kFileTypes)
        if (t.name == n)
            return t;
    std::string choices;
    for (const auto& t : kFileTypes)
        choices += (choices.empty() ? "" : ", ") + t.name;
    throw Error("unknown GGUF type \"" + name + "\" (choose one of " + choices + ")");
}

bool useMoreBits(int layer, int layers)
{
    return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}

TensorTypeChoice ggufTensorType(const GgufFileType& ft, const std::string& name, const std::vector<std::int64_t>& dims,
                                int layer, int layers, bool tiedOutput)
{
    if (dims.size() < 2)
        return {GgmlType::F32, false};
    GgmlType t = ft.base;
    const bool output = name == "output.weight" || (tiedOutput && name == "token_embd.weight");
    if (output && isQuantized(t) && t != GgmlType::Q8_0)
        t = GgmlType::Q6_K;
    else if (ft.kMix && (endsWith(name, ".attn_v.weight") || endsWith(name, ".ffn_down.weight")) &&
             useMoreBits(layer, layers))
        t = GgmlType::Q6_K;

    const std::int64_t cols = dims.back();
    if (cols % ggmlBlockElements(t) == 0)
        return {t, false};
    if (t == GgmlType::Q4_K)
        t = GgmlType::Q5_0;
    else if (t == GgmlType::Q6_K)
        t = GgmlType::Q8_0;
    if (cols % ggmlBlockElements(t) != 0)
        t = GgmlType::F16;
    return {t, true};
}

} // namespace qs::exporting
