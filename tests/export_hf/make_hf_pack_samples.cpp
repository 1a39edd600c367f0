// Writes random linears packed exactly as the HF exports pack them (GPTQ v1/v2 at 2/3/4/8 bits
// with act-order, AWQ GEMM, bitsandbytes NF4 with and without double quantization) plus the
// weight each one must dequantize to (f32, [N][K]), into one safetensors file. check_hf_layouts.py
// unpacks them with code written from AutoGPTQ / AutoAWQ / bitsandbytes' own unpacking, as an
// independent check of the layouts. Usage: make_hf_pack_samples OUT.safetensors [seed]
#include "core/export/hf_export.hpp"
#include "core/io/hf_bnb_nf4.hpp"
#include "core/io/hf_quant_packing.hpp"
#include "core/io/safetensors_writer.hpp"
#include "core/quant/layer_metrics.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <random>

using namespace qs;

namespace {

std::mt19937 rng;

std::vector<std::uint8_t> randomCodes(std::size_t count, int bits)
{
    std::uniform_int_distribution<int> d(0, (1 << bits) - 1);
    std::vector<std::uint8_t> v(count);
    for (auto& x : v)
        x = std::uint8_t(d(rng));
    return v;
}

compute::IntGroupwise groupwise(int n, int k, int bits, int group, bool sym, bool actOrder)
{
    compute::IntGroupwise m;
    m.n = n, m.k = k, m.bits = bits, m.groupSize = group, m.symmetric = sym;
    m.codes = io::packComputeCodes(randomCodes(std::size_t(n) * k, bits), n, k, bits);
    std::uniform_real_distribution<float> s(0.001f, 0.05f);
    m.scales.resize(std::size_t(n) * m.groups());
    for (auto& x : m.scales)
        x = io::roundToF16(s(rng));
    if (!sym) {
        std::uniform_int_distribution<int> z(1, (1 << bits) - 1);
        m.zeros.resize(m.scales.size());
        for (auto& x : m.zeros)
            x = float(z(rng));
    }
    if (actOrder) {
        for (int j = 0; j < k; ++j)
            m.gIdx.push_back(j / group);
        std::shuffle(m.gIdx.begin(), m.gIdx.end(), rng);
    }
    return m;
}

void addExpected(io::SafetensorsWriter& w, const std::string& c, const compute::WeightMatrix& m)
{
    const runtime::Mat d = quant::dequantize(m);
    w.addArray(c + ".expected", DType::F32, Shape{d.rows(), d.cols()}, std::vector<float>(d.data(), d.data() + d.size()));
}

void addGptq(io::SafetensorsWriter& w, nlohmann::json& cases, const std::string& c, const compute::IntGroupwise& m, bool v2)
{
    const auto g = io::toGptq(m, v2, c);
    const std::int64_t groups = g.groups();
    w.addArray(c + ".qweight", DType::I32, Shape{g.k * g.bits / 32, g.n}, g.qweight);
    w.addArray(c + ".qzeros", DType::I32, Shape{groups, g.n * g.bits / 32}, g.qzeros);
    w.addArray(c + ".scales", DType::F16, Shape{groups, g.n}, g.scales);
    w.addArray(c + ".g_idx", DType::I32, Shape{g.k}, g.gIdx);
    addExpected(w, c, m);
    cases[c] = {{"format", "gptq"}, {"bits", m.bits}, {"v2", v2}};
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: make_hf_pack_samples OUT.safetensors [seed]\n";
        return 2;
    }
    rng.seed(argc > 2 ? std::uint32_t(std::stoul(argv[2])) : 1u);
    try {
        io::SafetensorsWriter w;
        nlohmann::json cases;
        addGptq(w, cases, "gptq_v1_w4_asym_actorder", groupwise(64, 256, 4, 64, false, true), false);
        addGptq(w, cases, "gptq_v1_w4_sym", groupwise(64, 256, 4, 128, true, false), false);
        addGptq(w, cases, "gptq_v1_w3_asym", groupwise(64, 256, 3, 64, false, false), false);
        addGptq(w, cases, "gptq_v1_w2_asym", groupwise(64, 256, 2, 32, false, true), false);
        addGptq(w, cases, "gptq_v2_w4_asym", groupwise(64, 256, 4, 32, false, false), true);
        {
            compute::Int8PerChannel q;
            q.n = 64, q.k = 256;
            for (int i = 0; i < 64 * 256; ++i)
                q.q.push_back(std::int8_t(int(rng() % 255) - 127));
            for (int i = 0; i < 64; ++i)
                q.scale.push_back(io::roundToF16(0.001f * float(1 + i)));
            const auto g = io::toGptqInt8(q, false, "g8");
            const std::string c = "gptq_v1_w8_sym";
            w.addArray(c + ".qweight", DType::I32, Shape{256 * 8 / 32, 64}, g.qweight);
            w.addArray(c + ".qzeros", DType::I32, Shape{1, 64 * 8 / 32}, g.qzeros);
            w.addArray(c + ".scales", DType::F16, Shape{1, 64}, g.scales);
            w.addArray(c + ".g_idx", DType::I32, Shape{256}, g.gIdx);
            addExpected(w, c, q);
            cases[c] = {{"format", "gptq"}, {"bits", 8}, {"v2", false}};
        }
        {
            const auto m = groupwise(96, 256, 4, 64, false, false);
            const auto a = io::toAwq(m, "awq");
            const std::string c = "awq_w4";
            w.addArray(c + ".qweight", DType::I32, Shape{256, 96 / 8}, a.qweight);
            w.addArray(c + ".qzeros", DType::I32, Shape{4, 96 / 8}, a.qzeros);
            w.addArray(c + ".scales", DType::F16, Shape{4, 96}, a.scales);
            addExpected(w, c, m);
            cases[c] = {{"format", "awq"}, {"bits", 4}, {"group_size", 64}};
        }
        for (bool dq : {false, true}) {
            compute::Nf4 m;
            m.n = 48, m.k = 640; // 480 blocks: two nested blocks, the second partial
            m.codes = io::packComputeCodes(randomCodes(std::size_t(m.n) * m.k, 4), m.n, m.k, 4);
            m.doubleQuant = dq;
            std::uniform_real_distribution<float> a(0.01f, 2.0f);
            if (dq) {
                m.absmaxCodes = randomCodes(m.blocks(), 8);
                m.absmaxScale = {a(rng), a(rng)};
                for (int i = 0; i < 256; ++i)
                    m.absmaxCodebook[std::size_t(i)] = std::sin(float(i)) * 0.9f;
                m.absmaxOffset = 0.37f;
            } else {
                for (std::size_t b = 0; b < m.blocks(); ++b)
                    m.absmax.push_back(a(rng));
            }
            const auto t = io::toBnbNf4(m, "float16");
            const std::string c = dq ? "nf4_dq" : "nf4";
            const std::string p = c + ".weight";
            w.addArray(p, DType::U8, Shape{std::int64_t(t.weight.size()), 1}, t.weight);
            if (dq) {
                w.addArray(p + ".absmax", DType::U8, Shape{std::int64_t(t.absmaxCodes.size())}, t.absmaxCodes);
                w.addArray(p + ".nested_absmax", DType::F32, Shape{2}, t.nestedAbsmax);
                w.addArray(p + ".nested_quant_map", DType::F32, Shape{256}, t.nestedQuantMap);
            } else {
                w.addArray(p + ".absmax", DType::F32, Shape{std::int64_t(t.absmax.size())}, t.absmax);
            }
            w.addArray(p + ".quant_map", DType::F32, Shape{16}, t.quantMap);
            const std::vector<std::uint8_t> js(t.quantStateJson.begin(), t.quantStateJson.end());
            w.addArray(p + ".quant_state.bitsandbytes__nf4", DType::U8, Shape{std::int64_t(js.size())}, js);
            addExpected(w, c, m);
            cases[c] = {{"format", "bnb-nf4"}};
        }
        w.setMetadata("cases", cases.dump());
        std::ofstream f(argv[1], std::ios::binary | std::ios::trunc);
        w.writeTo(f);
        std::cout << "wrote " << argv[1] << " (" << w.byteSize() << " bytes, " << cases.size() << " cases)\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
