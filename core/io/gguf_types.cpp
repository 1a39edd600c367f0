#include "core/io/gguf_types.hpp"

#include <array>

namespace qs::io {

namespace {

// Block sizes and byte counts of ggml's block structs (ggml-common.h). The numbering is
// fixed by the file format; gaps are types ggml removed.
constexpr std::array kTypes{
    GgmlTypeTraits{0, "F32", 1, 4},
    GgmlTypeTraits{1, "F16", 1, 2},
    GgmlTypeTraits{2, "Q4_0", 32, 18},
    GgmlTypeTraits{3, "Q4_1", 32, 20},
    GgmlTypeTraits{6, "Q5_0", 32, 22},
    GgmlTypeTraits{7, "Q5_1", 32, 24},
    GgmlTypeTraits{8, "Q8_0", 32, 34},
    GgmlTypeTraits{9, "Q8_1", 32, 36},
    GgmlTypeTraits{10, "Q2_K", kQK_K, 84},
    GgmlTypeTraits{11, "Q3_K", kQK_K, 110},
    GgmlTypeTraits{12, "Q4_K", kQK_K, 144},
    GgmlTypeTraits{13, "Q5_K", kQK_K, 176},
    GgmlTypeTraits{14, "Q6_K", kQK_K, 210},
    GgmlTypeTraits{15, "Q8_K", kQK_K, 292},
    GgmlTypeTraits{16, "IQ2_XXS", kQK_K, 66},
    GgmlTypeTraits{17, "IQ2_XS", kQK_K, 74},
    GgmlTypeTraits{18, "IQ3_XXS", kQK_K, 98},
    GgmlTypeTraits{19, "IQ1_S", kQK_K, 50},
    GgmlTypeTraits{20, "IQ4_NL", 32, 18},
    GgmlTypeTraits{21, "IQ3_S", kQK_K, 110},
    GgmlTypeTraits{22, "IQ2_S", kQK_K, 82},
    GgmlTypeTraits{23, "IQ4_XS", kQK_K, 136},
    GgmlTypeTraits{24, "I8", 1, 1},
    GgmlTypeTraits{25, "I16", 1, 2},
    GgmlTypeTraits{26, "I32", 1, 4},
    GgmlTypeTraits{27, "I64", 1, 8},
    GgmlTypeTraits{28, "F64", 1, 8},
    GgmlTypeTraits{29, "IQ1_M", kQK_K, 56},
    GgmlTypeTraits{30, "BF16", 1, 2},
    GgmlTypeTraits{34, "TQ1_0", kQK_K, 54},
    GgmlTypeTraits{35, "TQ2_0", kQK_K, 66},
    GgmlTypeTraits{39, "MXFP4", 32, 17},
};

} // namespace

std::optional<GgmlTypeTraits> ggmlTypeTraits(std::uint32_t id)
{
    for (const auto& t : kTypes)
        if (t.id == id)
            return t;
    return std::nullopt;
}

std::optional<GgmlTypeTraits> ggmlTypeTraitsByName(std::string_view name)
{
    for (const auto& t : kTypes)
        if (t.name == name)
            return t;
    return std::nullopt;
}

} // namespace qs::io
