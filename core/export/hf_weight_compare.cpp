// asExported / sameWeights (hf_export.hpp): what a packed HF export stores for each kernel
// format, and exact comparison of two weights that may differ in representation only.
#include "core/export/hf_export.hpp"
#include "core/io/hf_quant_packing.hpp"

namespace qs::exporting {

namespace {

bool fail(std::string* why, const std::string& what)
{
    if (why)
        *why = what;
    return false;
}

int groupOf(const compute::IntGroupwise& m, int j) { return m.gIdx.empty() ? j / m.groupSize : m.gIdx[std::size_t(j)]; }

float zeroOf(const compute::IntGroupwise& m, int r, int g)
{
    return m.symmetric ? float(1 << (m.bits - 1)) : m.zeros[std::size_t(r) * std::size_t(m.groups()) + std::size_t(g)];
}

bool sameGroupwise(const compute::IntGroupwise& a, const compute::IntGroupwise& b, std::string* why)
{
    if (a.n != b.n || a.k != b.k || a.bits != b.bits)
        return fail(why, "shape or bits differ");
    if (io::unpackComputeCodes(a) != io::unpackComputeCodes(b))
        return fail(why, "codes differ");
    for (int r = 0; r < a.n; ++r)
        for (int j = 0; j < a.k; ++j) {
            const int ga = groupOf(a, j), gb = groupOf(b, j);
            const float sa = a.scales[std::size_t(r) * std::size_t(a.groups()) + std::size_t(ga)];
            const float sb = b.scales[std::size_t(r) * std::size_t(b.groups()) + std::size_t(gb)];
            if (sa != sb)
                return fail(why, "scale of row " + std::to_string(r) + " column " + std::to_string(j) + " differs: " +
                                     std::to_string(sa) + " vs " + std::to_string(sb));
            if (zeroOf(a, r, ga) != zeroOf(b, r, gb))
                return fail(why, "zero point of row " + std::to_string(r) + " column " + std::to_string(j) + " differs");
        }
    return true;
}

} // namespace

compute::WeightMatrix asExported(const compute::WeightMatrix& w, ExportFormat f)
{
    compute::WeightMatrix out = w;
    const bool halfScales = f == ExportFormat::Gptq || f == ExportFormat::Awq;
    if (auto* g = std::get_if<compute::IntGroupwise>(&out); g && halfScales)
        for (auto& s : g->scales)
            s = io::roundToF16(s);
    if (auto* q = std::get_if<compute::Int8PerChannel>(&out); q && f == ExportFormat::Gptq)
        for (auto& s : q->scale)
            s = io::roundToF16(s);
    return out;
}

bool sameWeights(const compute::WeightMatrix& a, const compute::WeightMatrix& b, std::string* why)
{
    if (a.index() != b.index())
        return fail(why, "formats differ: " + compute::formatName(a) + " vs " + compute::formatName(b));
    if (const auto* ga = std::get_if<compute::IntGroupwise>(&a))
        return sameGroupwise(*ga, std::get<compute::IntGroupwise>(b), why);
    if (const auto* qa = std::get_if<compute::Int8PerChannel>(&a)) {
        const auto& qb = std::get<compute::Int8PerChannel>(b);
        if (qa->n != qb.n || qa->k != qb.k || qa->q != qb.q)
            return fail(why, "int8 codes differ");
        return qa->scale == qb.scale || fail(why, "int8 scales differ");
    }
    if (const auto* na = std::get_if<compute::Nf4>(&a)) {
        const auto& nb = std::get<compute::Nf4>(b);
        if (na->n != nb.n || na->k != nb.k || na->codes != nb.codes)
            return fail(why, "NF4 codes differ");
        if (na->doubleQuant != nb.doubleQuant)
            return fail(why, "one NF4 weight is double-quantized, the other not");
        if (!na->doubleQuant)
            return na->absmax == nb.absmax || fail(why, "NF4 absmax differ");
        if (na->absmaxCodes != nb.absmaxCodes || na->absmaxScale != nb.absmaxScale ||
            na->absmaxCodebook != nb.absmaxCodebook || na->absmaxOffset != nb.absmaxOffset)
            return fail(why, "NF4 double-quantized absmax differ");
        return true;
    }
    if (const auto* da = std::get_if<compute::DenseHalf>(&a)) {
        const auto& db = std::get<compute::DenseHalf>(b);
        return (da->n == db.n && da->k == db.k && da->bf16 == db.bf16 && da->bits == db.bits) ||
               fail(why, "f16 weights differ");
    }
    const auto& ka = std::get<compute::GgufBlocks>(a);
    const auto& kb = std::get<compute::GgufBlocks>(b);
    return (ka.n == kb.n && ka.k == kb.k && ka.type == kb.type && ka.raw == kb.raw) || fail(why, "GGUF blocks differ");
}

} // namespace qs::exporting
