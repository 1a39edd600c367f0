// GGUF reader: block dequantization against the spec's per-element formulas, a full file
// round trip, metadata of every value type, and the architecture / tokenizer specs.
#include "common/test_support.hpp"
#include "gguf_test_blocks.hpp"
#include "gguf_test_writer.hpp"

#include "core/io/gguf.hpp"
#include "core/io/gguf_dequant.hpp"
#include "core/io/gguf_specs.hpp"
#include "core/util/error.hpp"

#include <cmath>

using namespace qs;
using namespace qs::test;

namespace {

// sqrt(sum (got - want)^2 / sum want^2): 0 for an exact decoder.
double normalizedError(const std::vector<float>& got, const std::vector<float>& want)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
        den += double(want[i]) * want[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// The decoders do the spec's float arithmetic in the spec's order, so the only slack needed
// is for a compiler contracting a multiply-add; 1e-6 is far below one quantization step.
constexpr double kMaxNormalizedError = 1e-6;

bool sameValue(const io::GgufValue& a, const io::GgufValue& b)
{
    if (a.type != b.type || a.value.index() != b.value.index())
        return false;
    if (const auto* av = std::get_if<std::vector<io::GgufValue>>(&a.value)) {
        const auto& bv = std::get<std::vector<io::GgufValue>>(b.value);
        if (av->size() != bv.size())
            return false;
        for (std::size_t i = 0; i < av->size(); ++i)
            if (!sameValue((*av)[i], bv[i]))
                return false;
        return true;
    }
    return std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::vector<io::GgufValue>>)
                return false; // handled above
            else
                return x == std::get<T>(b.value);
        },
        a.value);
}

std::uint32_t freshSeed() { return std::random_device{}(); }

} // namespace

class TestGguf : public QObject {
    Q_OBJECT

private slots:
    void dequantizeBlocks_data()
    {
        QTest::addColumn<quint32>("type");
        QTest::newRow("F32") << quint32(BlockMaker::F32);
        QTest::newRow("F16") << quint32(BlockMaker::F16);
        QTest::newRow("BF16") << quint32(BlockMaker::BF16);
        QTest::newRow("Q8_0") << quint32(BlockMaker::Q8_0);
        QTest::newRow("Q4_0") << quint32(BlockMaker::Q4_0);
        QTest::newRow("Q4_1") << quint32(BlockMaker::Q4_1);
        QTest::newRow("Q5_0") << quint32(BlockMaker::Q5_0);
        QTest::newRow("Q5_1") << quint32(BlockMaker::Q5_1);
        QTest::newRow("Q2_K") << quint32(BlockMaker::Q2_K);
        QTest::newRow("Q3_K") << quint32(BlockMaker::Q3_K);
        QTest::newRow("Q4_K") << quint32(BlockMaker::Q4_K);
        QTest::newRow("Q5_K") << quint32(BlockMaker::Q5_K);
        QTest::newRow("Q6_K") << quint32(BlockMaker::Q6_K);
    }

    void dequantizeBlocks()
    {
        QFETCH(quint32, type);
        const std::uint32_t seed = freshSeed();
        BlockMaker maker(seed);
        const std::size_t n = 256 * 6;
        const auto blocks = maker.make(type, n);
        QCOMPARE(blocks.expected.size(), n);
        std::vector<float> got(n, std::nanf(""));
        QVERIFY(io::dequantizeGgml(type, {reinterpret_cast<const std::uint8_t*>(blocks.bytes.data()), blocks.bytes.size()}, got));
        const double err = normalizedError(got, blocks.expected);
        if (!(err <= kMaxNormalizedError)) {
            for (std::size_t i = 0; i < n; ++i)
                if (got[i] != blocks.expected[i]) {
                    qWarning("seed %u: first mismatch at element %zu: got %g, want %g", seed, i, got[i], blocks.expected[i]);
                    break;
                }
        }
        QVERIFY2(err <= kMaxNormalizedError, qPrintable(QString("normalized error %1 (seed %2)").arg(err).arg(seed)));
        // Fresh random fields: the values must not be degenerate.
        double sumSq = 0;
        for (float v : blocks.expected)
            sumSq += double(v) * v;
        QVERIFY(sumSq > 0);
    }

    void dequantizeRejectsWrongSizes()
    {
        std::vector<std::uint8_t> bytes(18 * 2 - 1);
        std::vector<float> out(64);
        QVERIFY_THROWS_EXCEPTION(qs::Error, io::dequantizeGgml(BlockMaker::Q4_0, bytes, out));
        QVERIFY(!io::dequantizeGgml(16 /* IQ2_XXS */, bytes, out));
    }

    void fileRoundTrip()
    {
        try {
            ScratchDir dir;
            BlockMaker maker(freshSeed());
            GgufTestWriter w;
            w.alignment = 64;
            w.writeAlignmentKey = true;
            w.add("general.architecture", gv::str("llama"));
            struct Item {
                std::string name;
                std::vector<std::uint64_t> ne;
                std::uint32_t type;
                std::string dtype;
                EncodedBlocks blocks;
            };
            std::vector<Item> items = {
                {"a.f32", {7, 3}, BlockMaker::F32, "F32", {}},
                {"b.f16", {5}, BlockMaker::F16, "F16", {}},
                {"c.bf16", {4, 2, 3}, BlockMaker::BF16, "BF16", {}},
                {"d.q8_0", {64, 3}, BlockMaker::Q8_0, "Q8_0", {}},
                {"e.q4_0", {32, 2}, BlockMaker::Q4_0, "Q4_0", {}},
                {"f.q5_1", {96}, BlockMaker::Q5_1, "Q5_1", {}},
                {"g.q2_k", {256, 2}, BlockMaker::Q2_K, "Q2_K", {}},
                {"h.q3_k", {512}, BlockMaker::Q3_K, "Q3_K", {}},
                {"i.q4_k", {256, 3}, BlockMaker::Q4_K, "Q4_K", {}},
                {"j.q5_k", {256, 1, 2}, BlockMaker::Q5_K, "Q5_K", {}},
                {"k.q6_k", {256, 2, 1, 2}, BlockMaker::Q6_K, "Q6_K", {}},
            };
            for (auto& it : items) {
                std::uint64_t numel = 1;
                for (auto n : it.ne)
                    numel *= n;
                it.blocks = maker.make(it.type, numel);
                w.addTensor(it.name, it.ne, it.type, it.blocks.bytes);
            }
            const auto path = dir / "model.gguf";
            writeFile(path, w.build());

            io::GgufCheckpoint ck(path);
            QCOMPARE(ck.format(), std::string("gguf"));
            QCOMPARE(ck.version(), 3u);
            QCOMPARE(ck.alignment(), std::uint64_t{64});
            QCOMPARE(ck.tensors().size(), items.size());
            for (std::size_t i = 0; i < items.size(); ++i) {
                const auto& info = ck.tensors()[i];
                const auto& it = items[i];
                QCOMPARE(info.name, it.name);
                QCOMPARE(info.dtype, it.dtype);
                // Row-major as PyTorch shows it: GGUF's ne reversed.
                QCOMPARE(info.shape, Shape(it.ne.rbegin(), it.ne.rend()));
                QCOMPARE(info.nbytes, std::uint64_t(it.blocks.bytes.size()));
                QCOMPARE(info.offset % 64, std::uint64_t{0});
                QCOMPARE(info.file, path.string());
                const Tensor t = ck.readF32(it.name);
                QCOMPARE(t.shape, info.shape);
                QCOMPARE(t.data.size(), it.blocks.expected.size());
                const double err = normalizedError(t.data, it.blocks.expected);
                QVERIFY2(err <= kMaxNormalizedError, qPrintable(QString::fromStdString(it.name) + " error " + QString::number(err)));
            }
            QVERIFY_THROWS_EXCEPTION(io::NotFoundError, ck.readF32("no.such.tensor"));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void undecodableTypeOpensButReadNamesTensorAndType()
    {
        try {
            ScratchDir dir;
            GgufTestWriter w;
            w.addTensor("blk.0.attn_q.weight", {256, 2}, 16 /* IQ2_XXS */, std::string(66 * 2, '\x11'));
            writeFile(dir / "iq.gguf", w.build());
            io::GgufCheckpoint ck(dir / "iq.gguf");
            QCOMPARE(ck.tensors().at(0).dtype, std::string("IQ2_XXS"));
            QCOMPARE(ck.tensors().at(0).nbytes, std::uint64_t{132});
            try {
                ck.readF32("blk.0.attn_q.weight");
                QFAIL("expected FormatError");
            } catch (const io::FormatError& e) {
                const std::string msg = e.what();
                QVERIFY2(msg.find("blk.0.attn_q.weight") != std::string::npos, e.what());
                QVERIFY2(msg.find("type 16") != std::string::npos, e.what());
                QVERIFY2(msg.find("iq.gguf") != std::string::npos, e.what());
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void metadataRoundTrip_data()
    {
        QTest::addColumn<quint32>("version");
        QTest::newRow("v2") << 2u;
        QTest::newRow("v3") << 3u;
    }

    void metadataRoundTrip()
    {
        QFETCH(quint32, version);
        try {
            std::mt19937 rng(freshSeed());
            auto r = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
            std::map<std::string, GgufValue> want = {
                {"t.u8", gv::u8(std::uint64_t(r(0, 255)))},
                {"t.i8", gv::i8(r(-128, 127))},
                {"t.u16", gv::u16(std::uint64_t(r(0, 65535)))},
                {"t.i16", gv::i16(r(-32768, 32767))},
                {"t.u32", gv::u32(std::uint64_t(r(0, 0xffffffffll)))},
                {"t.i32", gv::i32(r(INT32_MIN, INT32_MAX))},
                {"t.u64", gv::u64(0xfedcba9876543210ull ^ std::uint64_t(r(0, 1 << 30)))},
                {"t.i64", gv::i64(r(INT64_MIN, -1))},
                {"t.f32", gv::f32(double(float(std::uniform_real_distribution<float>(-1e3f, 1e3f)(rng))))},
                {"t.f64", gv::f64(std::uniform_real_distribution<double>(-1e300, 1e300)(rng))},
                {"t.bool", gv::boolean(r(0, 1) == 1)},
                {"t.string", gv::str("héllo \xe2\x96\x81 \"q\"" + std::to_string(r(0, 1000)))},
                {"t.empty_string", gv::str("")},
                {"t.array_i32", gv::arr({gv::i32(r(-5, 5)), gv::i32(r(-5, 5)), gv::i32(-7)})},
                {"t.array_str", gv::strings({"a", "", "ccc"})},
                {"t.nested", gv::arr({gv::arr({gv::u16(1), gv::u16(2)}), gv::arr({gv::u16(3)}),
                                      gv::arr({gv::u16(std::uint64_t(r(0, 9)))})})},
                {"t.nested3", gv::arr({gv::arr({gv::arr({gv::f64(0.5)}), gv::arr({gv::f64(-2.25)})})})},
            };
            GgufTestWriter w;
            w.version = version;
            for (const auto& [k, v] : want)
                w.add(k, v);
            ScratchDir dir;
            writeFile(dir / "meta.gguf", w.build());
            io::GgufCheckpoint ck(dir / "meta.gguf");
            QCOMPARE(ck.version(), std::uint32_t(version));
            QCOMPARE(ck.alignment(), std::uint64_t{32});
            QCOMPARE(ck.values().size(), want.size());
            for (const auto& [k, v] : want) {
                auto it = ck.values().find(k);
                QVERIFY2(it != ck.values().end(), k.c_str());
                QVERIFY2(sameValue(it->second, v), qPrintable(QString::fromStdString(k + ": " + it->second.toString())));
            }
            const auto text = ck.metadata();
            QCOMPARE(text.at("t.bool"), std::string(std::get<bool>(want["t.bool"].value) ? "true" : "false"));
            QCOMPARE(text.at("t.array_str"), std::string("[\"a\", \"\", \"ccc\"]"));
            QCOMPARE(text.at("t.nested"), want["t.nested"].toString());
            QCOMPARE(text.at("t.i8"), std::to_string(std::get<std::int64_t>(want["t.i8"].value)));
            QVERIFY(ck.tensors().empty());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void toStringCutsLongArrays()
    {
        std::vector<GgufValue> many;
        for (int i = 0; i < 20; ++i)
            many.push_back(gv::i32(i));
        QCOMPARE(gv::arr(many).toString(3), std::string("[0, 1, 2, ... (20 items)]"));
    }

    void archSpecLlama()
    {
        try {
            GgufTestWriter w;
            w.add("general.architecture", gv::str("llama"));
            w.add("llama.context_length", gv::u32(8192));
            w.add("llama.embedding_length", gv::u32(64));
            w.add("llama.block_count", gv::u32(2));
            w.add("llama.feed_forward_length", gv::u64(176));
            w.add("llama.attention.head_count", gv::u32(8));
            w.add("llama.attention.head_count_kv", gv::i32(2));
            w.add("llama.attention.layer_norm_rms_epsilon", gv::f32(double(1e-5f)));
            w.add("llama.rope.freq_base", gv::f32(500000.0));
            w.add("llama.rope.dimension_count", gv::u32(8));
            w.add("tokenizer.ggml.model", gv::str("gpt2"));
            w.add("tokenizer.ggml.tokens", gv::strings({"a", "b", "c", "ab"}));
            w.add("tokenizer.ggml.bos_token_id", gv::u32(0));
            w.add("tokenizer.ggml.eos_token_id", gv::u32(3));
            w.addTensor("token_embd.weight", {64, 4}, BlockMaker::F32, std::string(64 * 4 * 4, '\0'));
            w.addTensor("blk.0.attn_q.weight", {64, 64}, BlockMaker::F32, std::string(64 * 64 * 4, '\0'));
            ScratchDir dir;
            writeFile(dir / "llama.gguf", w.build());
            io::GgufCheckpoint ck(dir / "llama.gguf");
            const auto s = ck.archSpec();
            QVERIFY(s.supported);
            QCOMPARE(s.architecture, std::string("llama"));
            QCOMPARE(s.maxPositionEmbeddings, 8192);
            QCOMPARE(s.hiddenSize, 64);
            QCOMPARE(s.numLayers, 2);
            QCOMPARE(s.intermediateSize, 176);
            QCOMPARE(s.numHeads, 8);
            QCOMPARE(s.numKvHeads, 2);
            QCOMPARE(s.headDim, 8);
            QCOMPARE(s.vocabSize, 4); // from the token list
            QVERIFY(std::abs(s.rmsNormEps - 1e-5) < 1e-10);
            QCOMPARE(s.ropeTheta, 500000.0);
            QVERIFY(s.tieWordEmbeddings); // no output.weight
            QVERIFY(!s.qkvBias);
            QVERIFY(!s.qkNorm);
            QCOMPARE(s.bosTokenId.value_or(-1), 0);
            QCOMPARE(s.eosTokenId.value_or(-1), 3);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void archSpecQwenFlagsAndUnknown()
    {
        try {
            ScratchDir dir;
            auto make = [&](const std::string& arch, const std::vector<std::string>& tensorNames) {
                GgufTestWriter w;
                w.add("general.architecture", gv::str(arch));
                w.add(arch + ".embedding_length", gv::u32(32));
                w.add(arch + ".block_count", gv::u32(1));
                w.add(arch + ".feed_forward_length", gv::u32(64));
                w.add(arch + ".attention.head_count", gv::u32(4));
                w.add(arch + ".vocab_size", gv::u32(100));
                for (const auto& n : tensorNames)
                    w.addTensor(n, {32}, BlockMaker::F32, std::string(32 * 4, '\0'));
                const auto path = dir / (arch + ".gguf");
                writeFile(path, w.build());
                return io::GgufCheckpoint(path).archSpec();
            };
            const auto q2 = make("qwen2", {"blk.0.attn_q.bias", "output.weight"});
            QVERIFY(q2.supported);
            QVERIFY(q2.qkvBias);
            QVERIFY(!q2.qkNorm);
            QVERIFY(!q2.tieWordEmbeddings);
            QCOMPARE(q2.numKvHeads, 4); // defaults to head_count
            QCOMPARE(q2.vocabSize, 100);
            const auto q3 = make("qwen3", {"blk.0.attn_q_norm.weight"});
            QVERIFY(q3.supported);
            QVERIFY(q3.qkNorm);
            QVERIFY(!q3.qkvBias);
            const auto other = make("mamba", {});
            QVERIFY(!other.supported);
            QCOMPARE(other.unsupportedReason, std::string("not supported yet: mamba"));
            QCOMPARE(other.hiddenSize, 32);

            // A supported architecture without its shape keys is a FormatError naming the key.
            GgufTestWriter w;
            w.add("general.architecture", gv::str("llama"));
            writeFile(dir / "bare.gguf", w.build());
            try {
                io::GgufCheckpoint(dir / "bare.gguf").archSpec();
                QFAIL("expected FormatError");
            } catch (const io::FormatError& e) {
                QVERIFY2(std::string(e.what()).find("llama.embedding_length") != std::string::npos, e.what());
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void tokenizerSpecByteLevel()
    {
        try {
            GgufTestWriter w;
            w.add("tokenizer.ggml.model", gv::str("gpt2"));
            w.add("tokenizer.ggml.pre", gv::str("llama-bpe"));
            w.add("tokenizer.ggml.tokens", gv::strings({"h", "e", "he", "Ġ", "Ġhe", "<|begin_of_text|>", "<tool>"}));
            w.add("tokenizer.ggml.token_type", gv::arr({gv::i32(1), gv::i32(1), gv::i32(1), gv::i32(1), gv::i32(1),
                                                        gv::i32(3), gv::i32(4)}));
            w.add("tokenizer.ggml.merges", gv::strings({"h e", "Ġ he"}));
            w.add("tokenizer.ggml.bos_token_id", gv::u32(5));
            w.add("tokenizer.ggml.eos_token_id", gv::u32(5));
            w.add("tokenizer.ggml.add_bos_token", gv::boolean(true));
            ScratchDir dir;
            writeFile(dir / "tok.gguf", w.build());
            io::GgufCheckpoint ck(dir / "tok.gguf");
            QVERIFY(ck.hasTokenizer());
            const auto s = ck.tokenizerSpec();
            QVERIFY(s.kind == io::TokenizerSpec::Kind::ByteLevel);
            QCOMPARE(s.vocab.size(), std::size_t{7});
            QCOMPARE(s.vocab[4], std::string("Ġhe"));
            QCOMPARE(s.merges.size(), std::size_t{2});
            QCOMPARE(s.merges[1].first, std::string("Ġ"));
            QCOMPARE(s.merges[1].second, std::string("he"));
            QCOMPARE(s.addedTokens.size(), std::size_t{2});
            QCOMPARE(s.addedTokens[0].id, 5);
            QCOMPARE(s.addedTokens[0].content, std::string("<|begin_of_text|>"));
            QVERIFY(s.addedTokens[0].special);
            QCOMPARE(s.addedTokens[1].id, 6);
            QVERIFY(!s.addedTokens[1].special);
            QCOMPARE(s.splitPatterns, std::vector<std::string>{io::gguf::kLlama3SplitRegex});
            QCOMPARE(s.bosId.value_or(-1), 5);
            QVERIFY(s.addBos);
            QVERIFY(!s.addEos);
            QVERIFY(!s.unkId);
            QCOMPARE(io::gguf::splitPatternsForPre("qwen2"), std::vector<std::string>{io::gguf::kQwen2SplitRegex});
            QCOMPARE(io::gguf::splitPatternsForPre("default"), std::vector<std::string>{io::gguf::kGpt2SplitRegex});
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void tokenizerSpecSentencePiece()
    {
        try {
            GgufTestWriter w;
            w.add("tokenizer.ggml.model", gv::str("llama"));
            // ids: 0 <unk>, 1 <s>, 2 </s>, 3 <0x41>, 4 ▁, 5 a, 6 b, 7 ab, 8 ▁ab
            w.add("tokenizer.ggml.tokens",
                  gv::strings({"<unk>", "<s>", "</s>", "<0x41>", "\xe2\x96\x81", "a", "b", "ab", "\xe2\x96\x81" "ab"}));
            w.add("tokenizer.ggml.token_type", gv::arr({gv::i32(2), gv::i32(3), gv::i32(3), gv::i32(6), gv::i32(1),
                                                        gv::i32(1), gv::i32(1), gv::i32(1), gv::i32(1)}));
            w.add("tokenizer.ggml.scores", gv::arr({gv::f32(0), gv::f32(0), gv::f32(0), gv::f32(0), gv::f32(-1),
                                                    gv::f32(-2), gv::f32(-3), gv::f32(-4), gv::f32(-5)}));
            w.add("tokenizer.ggml.unknown_token_id", gv::u32(0));
            w.add("tokenizer.ggml.bos_token_id", gv::u32(1));
            w.add("tokenizer.ggml.eos_token_id", gv::u32(2));
            ScratchDir dir;
            writeFile(dir / "spm.gguf", w.build());
            const auto s = io::GgufCheckpoint(dir / "spm.gguf").tokenizerSpec();
            QVERIFY(s.kind == io::TokenizerSpec::Kind::SentencePiece);
            QVERIFY(s.byteFallback);
            QVERIFY(s.addPrefixSpace);
            QVERIFY(s.addBos); // llama.cpp's default for sentencepiece
            QCOMPARE(s.unkId.value_or(-1), 0);
            QCOMPARE(s.eosId.value_or(-1), 2);
            QCOMPARE(s.addedTokens.size(), std::size_t{2}); // <s>, </s>
            // Merges derived from scores: "ab" (score -4) before "▁ab" (score -5).
            QCOMPARE(s.merges.size(), std::size_t{2});
            QCOMPARE(s.merges[0], (std::pair<std::string, std::string>{"a", "b"}));
            QCOMPARE(s.merges[1], (std::pair<std::string, std::string>{"\xe2\x96\x81", "ab"}));

            GgufTestWriter badId;
            badId.add("tokenizer.ggml.model", gv::str("gpt2"));
            badId.add("tokenizer.ggml.tokens", gv::strings({"a", "b"}));
            badId.add("tokenizer.ggml.eos_token_id", gv::u32(2));
            writeFile(dir / "badid.gguf", badId.build());
            try {
                io::GgufCheckpoint(dir / "badid.gguf").tokenizerSpec();
                QFAIL("expected FormatError");
            } catch (const io::FormatError& e) {
                QVERIFY2(std::string(e.what()).find("tokenizer.ggml.eos_token_id") != std::string::npos, e.what());
            }

            GgufTestWriter bad;
            bad.add("tokenizer.ggml.model", gv::str("llama"));
            bad.add("tokenizer.ggml.tokens", gv::strings({"a", "b"}));
            bad.add("tokenizer.ggml.scores", gv::arr({gv::f32(0)}));
            writeFile(dir / "bad.gguf", bad.build());
            try {
                io::GgufCheckpoint(dir / "bad.gguf").tokenizerSpec();
                QFAIL("expected FormatError");
            } catch (const io::FormatError& e) {
                QVERIFY2(std::string(e.what()).find("tokenizer.ggml.scores") != std::string::npos, e.what());
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestGguf)
#include "test_gguf.moc"
