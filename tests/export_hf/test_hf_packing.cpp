// The packed layouts of HF GPTQ, AWQ and bitsandbytes-NF4 checkpoints: words derived by hand
// from the documented layouts (AutoGPTQ QuantLinear.pack, AutoAWQ WQLinear_GEMM, bitsandbytes
// kQuantizeBlockwise), exact round trips on random codes, whole linears through
// toGptq/fromGptq, toAwq/fromAwq, toBnbNf4/fromBnbNf4, the quantization_config JSON and the
// safetensors writer read back by the project's reader.
#include "common/test_support.hpp"

#include "core/export/hf_export.hpp"
#include "core/io/hf_bnb_nf4.hpp"
#include "core/io/hf_quant_config.hpp"
#include "core/io/hf_quant_packing.hpp"
#include "core/io/raw_tensor_reader.hpp"
#include "core/io/safetensors.hpp"
#include "core/io/safetensors_writer.hpp"
#include "core/util/error.hpp"

#include <QtTest/QtTest>

#include <fstream>
#include <random>

using namespace qs;

namespace {

std::vector<std::uint8_t> randomCodes(std::mt19937& rng, std::size_t count, int bits)
{
    std::uniform_int_distribution<int> d(0, (1 << bits) - 1);
    std::vector<std::uint8_t> v(count);
    for (auto& x : v)
        x = std::uint8_t(d(rng));
    return v;
}

// A random IntGroupwise: codes, scales in (0.001, 0.1), integer zeros, optional act-order g_idx.
compute::IntGroupwise randomGroupwise(std::mt19937& rng, int n, int k, int bits, int group, bool sym, bool actOrder)
{
    compute::IntGroupwise m;
    m.n = n;
    m.k = k;
    m.bits = bits;
    m.groupSize = group;
    m.symmetric = sym;
    m.codes = io::packComputeCodes(randomCodes(rng, std::size_t(n) * std::size_t(k), bits), n, k, bits);
    std::uniform_real_distribution<float> s(0.001f, 0.1f);
    m.scales.resize(std::size_t(n) * std::size_t(m.groups()));
    for (auto& x : m.scales)
        x = s(rng);
    if (!sym) {
        std::uniform_int_distribution<int> z(1, (1 << bits) - 1); // v1 cannot hold zero 0
        m.zeros.resize(m.scales.size());
        for (auto& x : m.zeros)
            x = float(z(rng));
    }
    if (actOrder) {
        std::vector<std::int32_t> g(static_cast<std::size_t>(k));
        for (int j = 0; j < k; ++j)
            g[std::size_t(j)] = j / group;
        std::shuffle(g.begin(), g.end(), rng);
        m.gIdx = g;
    }
    compute::validate(m);
    return m;
}

std::uint32_t u(std::int32_t x) { return std::uint32_t(x); }

} // namespace

class TestHfPacking : public QObject {
    Q_OBJECT
private slots:
    void gptqWordsByHand();
    void gptq3BitCrossesWords();
    void gptqZerosV1AndV2ByHand();
    void awqOrderByHand();
    void bnbNibblesByHand();
    void randomPackingRoundTrips();
    void gptqLinearRoundTrips();
    void gptqRefusesWhatItCannotHold();
    void awqLinearRoundTrips();
    void nf4LinearRoundTrips();
    void quantizationConfigRoundTrips();
    void safetensorsWriterReadBack();
};

void TestHfPacking::gptqWordsByHand()
{
    try {
        // 4 bits, K = 8, N = 2: column 0 holds codes 0..7 (code k at bits 4k..4k+3), column 1 all 15.
        std::vector<std::uint8_t> codes(16);
        for (int j = 0; j < 8; ++j) {
            codes[std::size_t(j)] = std::uint8_t(j);
            codes[std::size_t(8 + j)] = 15;
        }
        auto q = io::packGptqQweight(codes, 2, 8, 4);
        QCOMPARE(int(q.size()), 2); // [K*4/32 = 1][N = 2]
        QCOMPARE(u(q[0]), 0x76543210u);
        QCOMPARE(u(q[1]), 0xFFFFFFFFu);
        // 2 bits, K = 16, N = 1: codes 3,0,1,2 then zeros -> 3 | 1<<4 | 2<<6.
        std::vector<std::uint8_t> c2(16, 0);
        c2[0] = 3, c2[2] = 1, c2[3] = 2;
        QCOMPARE(u(io::packGptqQweight(c2, 1, 16, 2)[0]), 0x93u);
        // 8 bits, K = 4, N = 1.
        QCOMPARE(u(io::packGptqQweight({0x12, 0x34, 0x56, 0x78}, 1, 4, 8)[0]), 0x78563412u);
        // 4 bits, K = 16, N = 1: two words along K, word w in row w.
        std::vector<std::uint8_t> c4(16, 0);
        c4[8] = 9;
        const auto q4 = io::packGptqQweight(c4, 1, 16, 4);
        QCOMPARE(u(q4[0]), 0u);
        QCOMPARE(u(q4[1]), 9u);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::gptq3BitCrossesWords()
{
    try {
        // AutoGPTQ's 3-bit packing: code 10 puts its low 2 bits at bits 30-31 of word 0 and its
        // high bit at bit 0 of word 1; code 21 its low bit at bit 31 of word 1, the rest at bits 0-1 of word 2.
        std::vector<std::uint8_t> c(32, 0);
        c[10] = 7;             // 111b
        c[21] = 5;             // 101b: bit 31 of word 1 = 1, word 2 bits 0-1 = 10b
        c[11] = 1;             // bit 33 = word 1 bit 1
        c[31] = 4;             // bits 93..95 = word 2 bits 29..31 -> 100b -> bit 31
        const auto q = io::packGptqQweight(c, 1, 32, 3);
        QCOMPARE(int(q.size()), 3);
        QCOMPARE(u(q[0]), 0xC0000000u);
        QCOMPARE(u(q[1]), 0x80000003u);
        QCOMPARE(u(q[2]), 0x80000002u);
        QVERIFY(io::unpackGptqQweight(q, 1, 32, 3) == c);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::gptqZerosV1AndV2ByHand()
{
    try {
        // A symmetric 4-bit linear, N = 8: zero 8 everywhere, stored as 7 in v1 and 8 in v2.
        std::mt19937 rng(1);
        const auto m = randomGroupwise(rng, 8, 64, 4, 32, true, false);
        const auto v1 = io::toGptq(m, false, "sym");
        const auto v2 = io::toGptq(m, true, "sym");
        QCOMPARE(int(v1.qzeros.size()), 2); // [G = 2][8*4/32 = 1]
        QCOMPARE(u(v1.qzeros[0]), 0x77777777u);
        QCOMPARE(u(v2.qzeros[1]), 0x88888888u);
        // Asymmetric zeros 1..8 in a row of 8 outputs: v1 stores 0..7 -> 0x76543210.
        auto a = randomGroupwise(rng, 8, 32, 4, 32, false, false);
        for (int r = 0; r < 8; ++r)
            a.zeros[std::size_t(r)] = float(r + 1);
        QCOMPARE(u(io::toGptq(a, false, "asym").qzeros[0]), 0x76543210u);
        QCOMPARE(u(io::toGptq(a, true, "asym").qzeros[0]), 0x87654321u);
        // scales [G][N] in f16, g_idx = k / group without act-order.
        const auto g = io::toGptq(a, false, "asym");
        QCOMPARE(g.scales[3], io::toF16Bits(a.scales[3]));
        QCOMPARE(g.gIdx[31], 0);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::awqOrderByHand()
{
    try {
        // One row of N = 8 values 0..7: nibble i holds column kAwqOrder[i] = 0,2,4,6,1,3,5,7.
        std::vector<std::uint8_t> v = {0, 1, 2, 3, 4, 5, 6, 7};
        const auto w = io::packAwqRows(v, 1, 8);
        QCOMPARE(u(w[0]), 0x75316420u);
        QVERIFY(io::unpackAwqRows(w, 1, 8) == v);
        // The weight is packed along the OUTPUT dim: [K][N/8]. K = 32 (one group), N = 8; code
        // of (n = 2, k = 5) = 9 lands in row 5, nibble 1.
        compute::IntGroupwise m;
        m.n = 8, m.k = 32, m.bits = 4, m.groupSize = 32, m.symmetric = false;
        std::vector<std::uint8_t> codes(8 * 32, 0);
        codes[2 * 32 + 5] = 9;
        m.codes = io::packComputeCodes(codes, 8, 32, 4);
        m.scales.assign(8, 0.5f);
        m.zeros.assign(8, 3.0f);
        const auto a = io::toAwq(m, "awq");
        QCOMPARE(int(a.qweight.size()), 32);
        QCOMPARE(u(a.qweight[5]), 0x90u);
        QCOMPARE(u(a.qweight[4]), 0u);
        QCOMPARE(u(a.qzeros[0]), 0x33333333u); // AWQ keeps the zero point itself
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::bnbNibblesByHand()
{
    try {
        const auto b = io::packBnbNibbles({1, 2, 3});
        QCOMPARE(int(b.size()), 2);
        QCOMPARE(int(b[0]), 0x12); // first element in the high nibble
        QCOMPARE(int(b[1]), 0x30);
        QVERIFY(io::unpackBnbNibbles(b, 3) == (std::vector<std::uint8_t>{1, 2, 3}));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::randomPackingRoundTrips()
{
    try {
        std::mt19937 rng(std::random_device{}());
        for (int bits : {2, 3, 4, 8})
            for (int trial = 0; trial < 4; ++trial) {
                const int n = 32 * (1 + int(rng() % 4)), k = 32 * (1 + int(rng() % 5)), groups = 1 + int(rng() % 3);
                const auto codes = randomCodes(rng, std::size_t(n) * std::size_t(k), bits);
                QVERIFY(io::unpackGptqQweight(io::packGptqQweight(codes, n, k, bits), n, k, bits) == codes);
                const auto zeros = randomCodes(rng, std::size_t(groups) * std::size_t(n), bits);
                QVERIFY(io::unpackGptqQzeros(io::packGptqQzeros(zeros, groups, n, bits), groups, n, bits) == zeros);
                if (bits <= 4) {
                    QVERIFY(io::unpackComputeCodes({n, k, bits, 32, true, io::packComputeCodes(codes, n, k, bits), {}, {}, {}}) ==
                            codes);
                }
            }
        const auto awq = randomCodes(rng, 40 * 64, 4);
        QVERIFY(io::unpackAwqRows(io::packAwqRows(awq, 40, 64), 40, 64) == awq);
        const auto nib = randomCodes(rng, 1001, 4);
        QVERIFY(io::unpackBnbNibbles(io::packBnbNibbles(nib), 1001) == nib);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::gptqLinearRoundTrips()
{
    try {
        std::mt19937 rng(std::random_device{}());
        for (int bits : {2, 3, 4})
            for (bool sym : {false, true})
                for (bool act : {false, true})
                    for (bool v2 : {false, true}) {
                        const auto m = randomGroupwise(rng, 64, 256, bits, bits == 3 ? 64 : 128, sym, act);
                        const auto g = io::toGptq(m, v2, "layer");
                        const auto back = io::fromGptq(g, v2, sym, "layer");
                        std::string why;
                        QVERIFY2(exporting::sameWeights(back, exporting::asExported(m, exporting::ExportFormat::Gptq), &why),
                                 why.c_str());
                        // f16 scales are the only change: a second trip is the identity.
                        QVERIFY(exporting::sameWeights(io::fromGptq(io::toGptq(back, v2, "l"), v2, sym, "l"), back));
                    }
        // 8 bits: int8 per channel <-> one group of K with zero 128.
        compute::Int8PerChannel q;
        q.n = 32, q.k = 64;
        for (int i = 0; i < 32 * 64; ++i)
            q.q.push_back(std::int8_t(int(rng() % 255) - 127));
        for (int i = 0; i < 32; ++i)
            q.scale.push_back(0.01f * float(1 + i));
        const auto g8 = io::toGptqInt8(q, false, "l8");
        QCOMPARE(u(g8.qzeros[0]), 0x7F7F7F7Fu); // 128 - 1
        QVERIFY(exporting::sameWeights(io::fromGptqInt8(g8, false, "l8"), exporting::asExported(q, exporting::ExportFormat::Gptq)));
        // A group size the kernels do not hold directly (256) opens as repeated groups of 128.
        auto wide = randomGroupwise(rng, 32, 512, 4, 128, false, false);
        auto g = io::toGptq(wide, true, "wide");
        g.groupSize = 256;
        g.scales.resize(2 * 32);
        g.qzeros.resize(2 * 4);
        for (int j = 0; j < 512; ++j)
            g.gIdx[std::size_t(j)] = j / 256;
        const auto opened = io::fromGptq(g, true, false, "wide");
        QCOMPARE(opened.groupSize, 128);
        QCOMPARE(opened.scales[1], opened.scales[0]);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::gptqRefusesWhatItCannotHold()
{
    std::mt19937 rng(3);
    auto m = randomGroupwise(rng, 32, 64, 4, 32, false, false);
    m.zeros[5] = 0.0f;
    // v1 stores zero - 1: a zero point of 0 has no v1 encoding (AutoGPTQ would write -1).
    QVERIFY_THROWS_EXCEPTION(Error, io::toGptq(m, false, "model.layers.0.mlp.up_proj"));
    try {
        io::toGptq(m, false, "model.layers.0.mlp.up_proj");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("model.layers.0.mlp.up_proj") != std::string::npos);
        QVERIFY(std::string(e.what()).find("gptq_v2") != std::string::npos);
    }
    QVERIFY(exporting::sameWeights(io::fromGptq(io::toGptq(m, true, "l"), true, false, "l"),
                                   exporting::asExported(m, exporting::ExportFormat::Gptq)));
    m.zeros[5] = 2.5f; // not an integer
    QVERIFY_THROWS_EXCEPTION(Error, io::toGptq(m, true, "l"));
    // Hostile file content: g_idx out of range, v1 zero that wraps to 16.
    auto g = io::toGptq(randomGroupwise(rng, 32, 64, 4, 32, false, false), false, "l");
    g.gIdx[3] = 7;
    QVERIFY_THROWS_EXCEPTION(Error, io::fromGptq(g, false, false, "l"));
    auto g2 = io::toGptq(randomGroupwise(rng, 32, 64, 4, 32, false, false), false, "l");
    g2.qzeros[0] |= 0xF;
    QVERIFY_THROWS_EXCEPTION(Error, io::fromGptq(g2, false, false, "l"));
    // Too few outputs for whole qzeros words (N*bits % 32 != 0).
    auto narrow = randomGroupwise(rng, 4, 64, 4, 32, false, false);
    QVERIFY_THROWS_EXCEPTION(Error, io::toGptq(narrow, false, "l"));
}

void TestHfPacking::awqLinearRoundTrips()
{
    try {
        std::mt19937 rng(std::random_device{}());
        for (bool sym : {false, true}) {
            const auto m = randomGroupwise(rng, 96, 256, 4, 64, sym, false);
            const auto back = io::fromAwq(io::toAwq(m, "l"), "l");
            std::string why;
            QVERIFY2(exporting::sameWeights(back, exporting::asExported(m, exporting::ExportFormat::Awq), &why), why.c_str());
        }
        QVERIFY_THROWS_EXCEPTION(Error, io::toAwq(randomGroupwise(rng, 32, 64, 3, 32, false, false), "l"));
        QVERIFY_THROWS_EXCEPTION(Error, io::toAwq(randomGroupwise(rng, 32, 64, 4, 32, false, true), "l"));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::nf4LinearRoundTrips()
{
    try {
        std::mt19937 rng(std::random_device{}());
        for (bool dq : {false, true}) {
            compute::Nf4 m;
            m.n = 40, m.k = 128;
            const auto codes = randomCodes(rng, 40 * 128, 4);
            m.codes = io::packComputeCodes(codes, 40, 128, 4);
            m.doubleQuant = dq;
            std::uniform_real_distribution<float> a(0.01f, 2.0f);
            if (dq) {
                m.absmaxCodes = randomCodes(rng, m.blocks(), 8);
                m.absmaxScale = {a(rng)};
                for (int i = 0; i < 256; ++i)
                    m.absmaxCodebook[std::size_t(i)] = float(i - 128) / 128.0f;
                m.absmaxOffset = 0.123456789f;
            } else {
                for (std::size_t b = 0; b < m.blocks(); ++b)
                    m.absmax.push_back(a(rng));
            }
            const auto t = io::toBnbNf4(m, "float16");
            QCOMPARE(t.weight.size(), std::size_t(40 * 128 / 2));
            QCOMPARE(int(t.weight[0] >> 4), int(codes[0])); // first code in the high nibble
            const auto json = nlohmann::json::parse(t.quantStateJson);
            QCOMPARE(json["quant_type"].get<std::string>(), std::string("nf4"));
            QCOMPARE(json["blocksize"].get<int>(), 64);
            QCOMPARE(json["shape"].dump(), std::string("[40,128]"));
            QCOMPARE(json.contains("nested_offset"), dq);
            QVERIFY(exporting::sameWeights(io::fromBnbNf4(t, 40, 128, "l"), m));
            auto bad = t;
            bad.quantMap[3] += 0.01f;
            QVERIFY_THROWS_EXCEPTION(Error, io::fromBnbNf4(bad, 40, 128, "l"));
            QVERIFY_THROWS_EXCEPTION(Error, io::fromBnbNf4(t, 128, 40, "l")); // shape disagrees
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::quantizationConfigRoundTrips()
{
    try {
        io::HfQuantConfig g;
        g.bits = 3;
        g.groupSize = 64;
        g.descAct = true;
        g.sym = false;
        g.gptqV2 = true;
        nlohmann::json cfg = {{"quantization_config", io::quantizationConfigJson(g)}};
        auto back = io::parseQuantizationConfig(cfg, "config.json");
        QVERIFY(back && back->method == io::HfQuantMethod::Gptq && back->bits == 3 && back->groupSize == 64 &&
                back->descAct && !back->sym && back->gptqV2);
        QCOMPARE(cfg["quantization_config"]["checkpoint_format"].get<std::string>(), std::string("gptq_v2"));
        io::HfQuantConfig a;
        a.method = io::HfQuantMethod::Awq;
        cfg = {{"quantization_config", io::quantizationConfigJson(a)}};
        QCOMPARE(cfg["quantization_config"]["version"].get<std::string>(), std::string("gemm"));
        QVERIFY(io::parseQuantizationConfig(cfg, "c")->method == io::HfQuantMethod::Awq);
        io::HfQuantConfig b;
        b.method = io::HfQuantMethod::BnbNf4;
        b.computeDtype = "bfloat16";
        cfg = {{"quantization_config", io::quantizationConfigJson(b)}};
        QCOMPARE(cfg["quantization_config"]["bnb_4bit_quant_type"].get<std::string>(), std::string("nf4"));
        QVERIFY(io::parseQuantizationConfig(cfg, "c")->doubleQuant);
        io::HfQuantConfig w;
        w.method = io::HfQuantMethod::W8A8;
        w.staticActivations = true;
        cfg = {{"quantization_config", io::quantizationConfigJson(w)}};
        QCOMPARE(cfg["quantization_config"]["config_groups"]["group_0"]["input_activations"]["strategy"].get<std::string>(),
                 std::string("tensor"));
        QVERIFY(io::parseQuantizationConfig(cfg, "c")->staticActivations);
        QVERIFY(!io::parseQuantizationConfig(nlohmann::json{{"model_type", "llama"}}, "c"));
        cfg = {{"quantization_config", {{"quant_method", "hqq"}}}};
        QVERIFY_THROWS_EXCEPTION(io::FormatError, io::parseQuantizationConfig(cfg, "c"));
        cfg = {{"quantization_config", {{"quant_method", "gptq"}, {"bits", "four"}}}};
        QVERIFY_THROWS_EXCEPTION(io::FormatError, io::parseQuantizationConfig(cfg, "c"));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfPacking::safetensorsWriterReadBack()
{
    try {
        test::ScratchDir dir;
        io::SafetensorsWriter w;
        w.addArray("a.u8", DType::U8, Shape{3}, std::vector<std::uint8_t>{1, 2, 3});
        w.addArray("b.i32", DType::I32, Shape{2, 2}, std::vector<std::int32_t>{-1, 2, 0x7FFFFFFF, -2147483647 - 1});
        w.addArray("c.f16", DType::F16, Shape{2}, std::vector<std::uint16_t>{io::toF16Bits(1.5f), io::toF16Bits(-0.25f)});
        w.setMetadata("format", "pt");
        QVERIFY_THROWS_EXCEPTION(Error, w.addArray("a.u8", DType::U8, Shape{1}, std::vector<std::uint8_t>{1}));
        QVERIFY_THROWS_EXCEPTION(Error, w.addArray("d", DType::F32, Shape{2}, std::vector<float>{1}));
        const auto path = dir / "t.safetensors";
        {
            std::ofstream f(path, std::ios::binary);
            w.writeTo(f);
        }
        QCOMPARE(std::uint64_t(std::filesystem::file_size(path)), w.byteSize());
        const auto ck = io::openSafetensors(path);
        QCOMPARE(ck->readF32("c.f16").data, (std::vector<float>{1.5f, -0.25f}));
        QCOMPARE(ck->metadata().at("format"), std::string("pt"));
        const io::RawTensorReader raw(*ck);
        QVERIFY((raw.array<std::int32_t>("b.i32", DType::I32, Shape{2, 2}) ==
                 std::vector<std::int32_t>{-1, 2, 0x7FFFFFFF, -2147483647 - 1}));
        QVERIFY(raw.bytes("a.u8", {DType::U8}) == (std::vector<std::uint8_t>{1, 2, 3}));
        QVERIFY_THROWS_EXCEPTION(io::FormatError, raw.bytes("a.u8", {DType::I32}));
        QVERIFY_THROWS_EXCEPTION(io::FormatError, raw.bytes("b.i32", {DType::I32}, Shape{4}));
        // Wider types first so every tensor is aligned to its element size.
        QVERIFY(ck->find("b.i32")->offset % 4 == 0 && ck->find("c.f16")->offset % 2 == 0);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestHfPacking)
#include "test_hf_packing.moc"
