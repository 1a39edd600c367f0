#include "core/io/hf_bnb_nf4.hpp"

#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

namespace qs::io {

std::vector<std::uint8_t> packBnbNibbles(const std::vector<std::uint8_t>& codes)
{
    std::vector<std::uint8_t> out((codes.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (codes[i] > 15)
            throw Error("bitsandbytes packing: code " + std::to_string(codes[i]) + " does not fit in 4 bits");
        out[i / 2] |= std::uint8_t(i % 2 == 0 ? codes[i] << 4 : codes[i]);
    }
    return out;
}

std::vector<std::uint8_t> unpackBnbNibbles(const std::vector<std::uint8_t>& bytes, std::size_t count)
{
    if (bytes.size() != (count + 1) / 2)
        throw Error("bitsandbytes unpacking: " + std::to_string(bytes.size()) + " bytes cannot hold " +
                    std::to_string(count) + " codes");
    std::vector<std::uint8_t> codes(count);
    for (std::size_t i = 0; i < count; ++i)
        codes[i] = std::uint8_t(i % 2 == 0 ? bytes[i / 2] >> 4 : bytes[i / 2] & 0xF);
    return codes;
}

BnbNf4Tensors toBnbNf4(const compute::Nf4& m, const std::string& dtype)
{
    compute::validate(m);
    const std::size_t count = std::size_t(m.n) * std::size_t(m.k);
    std::vector<std::uint8_t> codes(count);
    for (std::size_t i = 0; i < count; ++i)
        codes[i] = std::uint8_t((m.codes[i / 8] >> (4 * (i % 8))) & 0xF); // rows are whole words (K % 64 == 0)
    BnbNf4Tensors t;
    t.weight = packBnbNibbles(codes);
    t.quantMap.assign(compute::kNf4Levels.begin(), compute::kNf4Levels.end());
    nlohmann::ordered_json state = {{"quant_type", "nf4"},
                                    {"blocksize", compute::Nf4::kBlockSize},
                                    {"dtype", dtype},
                                    {"shape", {m.n, m.k}}};
    if (m.doubleQuant) {
        t.absmaxCodes = m.absmaxCodes;
        t.nestedAbsmax = m.absmaxScale;
        t.nestedQuantMap.assign(m.absmaxCodebook.begin(), m.absmaxCodebook.end());
        state["nested_blocksize"] = compute::Nf4::kDoubleQuantBlock;
        state["nested_dtype"] = "float32";
        state["nested_offset"] = double(m.absmaxOffset);
    } else {
        t.absmax = m.absmax;
    }
    t.quantStateJson = state.dump();
    return t;
}

compute::Nf4 fromBnbNf4(const BnbNf4Tensors& t, int n, int k, const std::string& what)
{
    nlohmann::json s;
    try {
        s = nlohmann::json::parse(t.quantStateJson);
    } catch (const std::exception& e) {
        throw Error(what + ": quant_state is not JSON: " + e.what());
    }
    auto need = [&](const char* key) -> const nlohmann::json& {
        if (!s.is_object() || !s.contains(key))
            throw Error(what + ": quant_state lacks \"" + key + "\"");
        return s[key];
    };
    try {
        if (need("quant_type") != "nf4")
            throw Error(what + ": quant_type " + need("quant_type").dump() + " is not nf4");
        if (need("blocksize").get<int>() != compute::Nf4::kBlockSize)
            throw Error(what + ": blocksize " + need("blocksize").dump() + " is not 64, the only one the kernels hold");
        const auto shape = need("shape").get<std::vector<std::int64_t>>();
        if (shape != std::vector<std::int64_t>{n, k})
            throw Error(what + ": quant_state shape " + need("shape").dump() + ", expected [" + std::to_string(n) + ", " +
                        std::to_string(k) + "]");
    } catch (const nlohmann::json::exception& e) {
        throw Error(what + ": quant_state has an ill-typed item: " + e.what());
    }
    if (t.quantMap.size() != 16)
        throw Error(what + ": quant_map has " + std::to_string(t.quantMap.size()) + " entries, expected 16");
    for (int i = 0; i < 16; ++i)
        if (t.quantMap[std::size_t(i)] != compute::kNf4Levels[std::size_t(i)])
            throw Error(what + ": quant_map[" + std::to_string(i) + "] is not the NF4 level");

    compute::Nf4 m;
    m.n = n;
    m.k = k;
    const auto codes = unpackBnbNibbles(t.weight, std::size_t(n) * std::size_t(k));
    m.codes.assign(codes.size() / 8, 0);
    for (std::size_t i = 0; i < codes.size(); ++i)
        m.codes[i / 8] |= std::uint32_t(codes[i]) << (4 * (i % 8));
    const std::size_t blocks = m.blocks();
    if (t.nested()) {
        m.doubleQuant = true;
        try {
            if (need("nested_blocksize").get<int>() != compute::Nf4::kDoubleQuantBlock)
                throw Error(what + ": nested_blocksize " + need("nested_blocksize").dump() + " is not 256");
            m.absmaxOffset = float(need("nested_offset").get<double>());
        } catch (const nlohmann::json::exception& e) {
            throw Error(what + ": quant_state has an ill-typed item: " + e.what());
        }
        if (t.absmaxCodes.size() != blocks)
            throw Error(what + ": absmax holds " + std::to_string(t.absmaxCodes.size()) + " codes, expected " +
                        std::to_string(blocks));
        if (t.nestedQuantMap.size() != 256)
            throw Error(what + ": nested_quant_map has " + std::to_string(t.nestedQuantMap.size()) + " entries, expected 256");
        m.absmaxCodes = t.absmaxCodes;
        m.absmaxScale = t.nestedAbsmax;
        std::copy(t.nestedQuantMap.begin(), t.nestedQuantMap.end(), m.absmaxCodebook.begin());
    } else {
        if (t.absmax.size() != blocks)
            throw Error(what + ": absmax holds " + std::to_string(t.absmax.size()) + " values, expected " +
                        std::to_string(blocks));
        m.absmax = t.absmax;
    }
    try {
        compute::validate(m);
    } catch (const std::exception& e) {
        throw Error(what + ": " + e.what());
    }
    return m;
}

} // namespace qs::io
