// GGUF export round trips through the project's own reader (llama.cpp is not available here:
// the checks are the format spec, known vectors and our reader, which already opens llama.cpp's
// files): logits of tiny fixtures (llama q/k permutation, Qwen2 biases, Qwen3 q/k norms, tied
// embeddings), the demo model's file types and mixes, int4 g32 results written without
// requantizing with the perplexity of the reopened file equal to the in-memory model's, and
// hostile targets (missing/unwritable folder, cancel midway) that leave nothing behind.
#include "common/test_support.hpp"

#include "core/compute/backend.hpp"
#include "core/eval/perplexity.hpp"
#include "core/export/export.hpp"
#include "core/export/gguf_export.hpp"
#include "core/export/safe_output.hpp"
#include "core/io/gguf.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/tokenizer.hpp"
#include "core/quant/layer_metrics.hpp"
#include "core/quant/pipeline.hpp"
#include "core/runtime/transformer.hpp"
#include "core/util/error.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace qs;
using runtime::Mat;

namespace {

exporting::ExportRequest request(const model::Model& m, const std::filesystem::path& out, const std::string& type)
{
    exporting::ExportRequest r;
    r.source = &m;
    r.output = out;
    r.ggufType = type;
    return r;
}

double relDiff(const Mat& a, const Mat& b)
{
    return double((a - b).norm()) / std::max(1e-30, double(a.norm()));
}

// Undoes llama.cpp's q/k permutation: HF row order from GGUF rows.
Mat unpermute(const Mat& gguf, int heads)
{
    const auto order = exporting::llamaQkRowOrder(int(gguf.rows()), heads);
    Mat hf(gguf.rows(), gguf.cols());
    for (Eigen::Index r = 0; r < gguf.rows(); ++r)
        hf.row(order[std::size_t(r)]) = gguf.row(r);
    return hf;
}

std::vector<std::int32_t> demoTokens(const model::Model& m, std::size_t count)
{
    std::ifstream f(io::demoModelPath() / "evaluation.txt");
    std::stringstream ss;
    ss << f.rdbuf();
    auto t = m.tokenizer->encode(ss.str().substr(0, 20000));
    t.resize(std::min(t.size(), count));
    return t;
}

std::size_t entriesIn(const std::filesystem::path& dir)
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

class TestGgufRoundTrip : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { Eigen::setNbThreads(1); }

    // F32 export of each fixture: the reopened model's logits equal the original's (the llama
    // q/k rows come back permuted and run with interleaved RoPE, so this checks the permutation).
    void fixtureLogits_data()
    {
        QTest::addColumn<QString>("fixture");
        for (const char* f : {"llama", "llama-tied", "llama31-rope", "mistral", "qwen2", "qwen3"})
            QTest::newRow(f) << QString(f);
    }
    void fixtureLogits()
    {
        QFETCH(QString, fixture);
        try {
            test::ScratchDir dir;
            const auto m = model::openModel((test::fixturesDir() / fixture.toStdString()).string());
            const auto out = dir / "model.gguf";
            const auto r = exporting::exportModel(request(m, out, "F32"));
            QCOMPARE(r.tensorsVerified, r.tensors);
            QCOMPARE(r.maxVerifyError, 0.0);
            const auto back = model::openModel(out.string());
            QCOMPARE(back.spec.numLayers, m.spec.numLayers);
            QCOMPARE(back.spec.tieWordEmbeddings, m.spec.tieWordEmbeddings);
            const runtime::Transformer a(runtime::loadLlamaWeights(m)), b(runtime::loadLlamaWeights(back));
            std::vector<std::int32_t> tokens;
            for (int i = 0; i < 24; ++i)
                tokens.push_back(std::int32_t((i * 37 + 5) % m.spec.vocabSize));
            const Mat la = a.forward(tokens), lb = b.forward(tokens);
            const double d = relDiff(la, lb);
            qInfo("%s: logits relative difference %.3g", qPrintable(fixture), d);
            QVERIFY2(d < 1e-5, qPrintable(QString::number(d)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // A GGUF source converts again without a second q/k permutation, its tokenizer keys copied.
    void ggufSourceReconverts()
    {
        try {
            test::ScratchDir dir;
            const auto m = model::openModel("demo");
            exporting::exportModel(request(m, dir / "a.gguf", "F16"));
            const auto a = model::openModel((dir / "a.gguf").string());
            exporting::exportModel(request(a, dir / "b.gguf", "F32"));
            const auto b = model::openModel((dir / "b.gguf").string());
            QVERIFY(b.tokenizer);
            const auto text = "Tokenizers: copied, not rebuilt. 42!";
            QCOMPARE(b.tokenizer->encode(text), m.tokenizer->encode(text));
            const runtime::Transformer t0(runtime::loadLlamaWeights(m)), t1(runtime::loadLlamaWeights(b));
            const auto tokens = demoTokens(m, 48);
            const double d = relDiff(t0.forward(tokens), t1.forward(tokens));
            qInfo("demo -> F16 GGUF -> F32 GGUF: logits relative difference %.3g", d);
            QVERIFY2(d < 1e-5, qPrintable(QString::number(d)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // The demo model in every file type: every tensor is in the documented type, reads back
    // within the type's error, and the tokenizer reads back identical.
    void demoFileTypes_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("maxLinearError");
        QTest::newRow("F16") << "F16" << 1e-3;
        QTest::newRow("BF16") << "BF16" << 8e-3;
        QTest::newRow("Q8_0") << "Q8_0" << 1e-2;
        QTest::newRow("Q6_K") << "Q6_K" << 0.026; // rows of 384 fall back to Q8_0
        QTest::newRow("Q5_0") << "Q5_0" << 6e-2;
        QTest::newRow("Q4_1") << "Q4_1" << 0.11;
        QTest::newRow("Q4_0") << "Q4_0" << 0.13;
        QTest::newRow("Q4_K_M") << "Q4_K_M" << 0.11;
    }
    void demoFileTypes()
    {
        QFETCH(QString, type);
        QFETCH(double, maxLinearError);
        try {
            test::ScratchDir dir;
            const auto m = model::openModel("demo");
            const auto out = dir / "demo.gguf";
            const auto r = exporting::exportModel(request(m, out, type.toStdString()));
            QCOMPARE(r.tensorsVerified, r.tensors);
            QCOMPARE(std::filesystem::file_size(out), r.bytes);
            QCOMPARE(entriesIn(dir.path()), std::size_t(1)); // no temporary left beside it

            const io::GgufCheckpoint ck(out);
            QCOMPARE(ck.version(), 3u);
            QCOMPARE(ck.alignment(), 32ull);
            auto typeOf = [&](const std::string& name) {
                for (const auto& t : ck.tensors())
                    if (t.name == name)
                        return t.dtype;
                return std::string("missing");
            };
            QCOMPARE(typeOf("blk.0.attn_norm.weight"), std::string("F32"));
            if (type == "Q4_K_M") {
                // ffn_down rows are 1024 long: Q6_K where use_more_bits picks the layer (2 and 5
                // of 6), Q4_K elsewhere; rows of 384 cannot hold 256-blocks and fall back to Q5_0
                // (Q4_K) or Q8_0 (Q6_K: output.weight and the picked attn_v).
                QCOMPARE(typeOf("blk.0.ffn_down.weight"), std::string("Q4_K"));
                QCOMPARE(typeOf("blk.2.ffn_down.weight"), std::string("Q6_K"));
                QCOMPARE(typeOf("blk.5.ffn_down.weight"), std::string("Q6_K"));
                QCOMPARE(typeOf("blk.0.attn_q.weight"), std::string("Q5_0"));
                QCOMPARE(typeOf("blk.2.attn_v.weight"), std::string("Q8_0"));
                QCOMPARE(typeOf("blk.1.attn_v.weight"), std::string("Q5_0"));
                QCOMPARE(typeOf("output.weight"), std::string("Q8_0"));
            } else if (type == "Q4_0") {
                QCOMPARE(typeOf("blk.0.attn_q.weight"), std::string("Q4_0"));
                QCOMPARE(typeOf("output.weight"), std::string("Q8_0")); // Q6_K, fallen back
            } else {
                QCOMPARE(typeOf("blk.3.ffn_up.weight"), type == "Q6_K" ? std::string("Q8_0") : type.toStdString());
            }

            const auto back = model::openModel(out.string());
            QVERIFY(back.tokenizer);
            const auto text = "The quick brown fox, 1234 times: \"naïve\" café!";
            QCOMPARE(back.tokenizer->encode(text), m.tokenizer->encode(text));
            QCOMPARE(back.tokenizer->spec().bosId, m.tokenizer->spec().bosId);
            QCOMPARE(back.tokenizer->spec().eosId, m.tokenizer->spec().eosId);

            const auto a = runtime::loadLlamaWeights(m), b = runtime::loadLlamaWeights(back);
            double worst = 0;
            for (std::size_t i = 0; i < a.blocks.size(); ++i)
                for (auto role : runtime::kAllLinearRoles) {
                    Mat wb = quant::currentWeight(b.blocks[i].linear(role));
                    if (role == runtime::LinearRole::Q)
                        wb = unpermute(wb, int(m.spec.numHeads));
                    if (role == runtime::LinearRole::K)
                        wb = unpermute(wb, int(m.spec.numKvHeads));
                    worst = std::max(worst, relDiff(quant::currentWeight(a.blocks[i].linear(role)), wb));
                }
            qInfo("%s: %.2f MB, worst linear relative RMS error %.4g", qPrintable(type), double(r.bytes) / 1e6, worst);
            QVERIFY2(worst < maxLinearError, qPrintable(QString::number(worst)));
            QVERIFY(worst > 0 || type == "F16"); // the demo is stored in f16: F16 is exact
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // RTN int4 g32 (asymmetric -> Q4_1, symmetric -> Q4_0) written without requantizing: the
    // reopened weights differ from the in-memory ones only by f16 scales, and the perplexity of
    // the reopened file equals that of the in-memory quantized model.
    void int4G32IsLossless_data()
    {
        QTest::addColumn<bool>("symmetric");
        QTest::newRow("asym-Q4_1") << false;
        QTest::newRow("sym-Q4_0") << true;
    }
    void int4G32IsLossless()
    {
        QFETCH(bool, symmetric);
        try {
            test::ScratchDir dir;
            const auto m = model::openModel("demo");
            runtime::Transformer q(runtime::loadLlamaWeights(m));
            quant::QuantConfig c;
            c.method = "rtn";
            c.bits = 4;
            c.groupSize = 32;
            c.symmetric = symmetric;
            const auto run = quant::quantizeModel(q, c, nullptr, compute::makeCpuBackend());
            auto req = request(m, dir / "rtn.gguf", "F32");
            req.weights = &q.weights();
            req.run = &run;
            const auto r = exporting::exportModel(req);
            QVERIFY(!r.notes.empty());
            QVERIFY2(r.notes.front().find("without requantizing") != std::string::npos, r.notes.front().c_str());
            QVERIFY2(r.maxVerifyError < 1e-3, qPrintable(QString::number(r.maxVerifyError)));

            const auto back = model::openModel(r.path.string());
            const io::GgufCheckpoint& ck = dynamic_cast<const io::GgufCheckpoint&>(*back.checkpoint);
            for (const auto& t : ck.tensors())
                if (t.name.find("attn_v.weight") != std::string::npos)
                    QCOMPARE(t.dtype, std::string(symmetric ? "Q4_0" : "Q4_1"));
            const runtime::Transformer reopened(runtime::loadLlamaWeights(back));
            const auto tokens = demoTokens(m, 2 * 128);
            const double p0 = eval::evaluatePerplexity(q, tokens, 128).perplexity();
            const double p1 = eval::evaluatePerplexity(reopened, tokens, 128).perplexity();
            qInfo("in-memory %.5f, reopened GGUF %.5f", p0, p1);
            QVERIFY2(std::fabs(p1 - p0) / p0 < 1e-3, qPrintable(QString("%1 vs %2").arg(p0).arg(p1)));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // Group 128 does not map onto 32-blocks: requantized, with the added error reported.
    void otherGroupSizesAreRequantized()
    {
        try {
            test::ScratchDir dir;
            const auto m = model::openModel((test::fixturesDir() / "llama").string());
            runtime::Transformer q(runtime::loadLlamaWeights(m));
            quant::QuantConfig c;
            c.method = "rtn";
            c.groupSize = 64;
            const auto run = quant::quantizeModel(q, c, nullptr, compute::makeCpuBackend());
            auto req = request(m, dir / "g64.gguf", "Q8_0");
            req.weights = &q.weights();
            req.run = &run;
            const auto r = exporting::exportModel(req);
            bool reported = false;
            for (const auto& n : r.notes)
                reported = reported || n.find("requantized (14 Q8_0): added error") != std::string::npos;
            QVERIFY2(reported, r.notes.empty() ? "no notes" : r.notes.front().c_str());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void badTargetsLeaveNothing()
    {
        try {
            test::ScratchDir dir;
            const auto m = model::openModel((test::fixturesDir() / "llama").string());
            auto expectError = [&](const std::filesystem::path& out, const char* what) {
                try {
                    exporting::exportModel(request(m, out, "Q8_0"));
                    QFAIL(qPrintable(QString("no error for ") + what));
                } catch (const Error& e) {
                    const std::string msg = e.what();
                    QVERIFY2(msg.find(out.string()) != std::string::npos, e.what()); // names the file
                }
            };
            expectError(dir / "missing" / "x.gguf", "a missing folder");
            test::writeFile(dir / "plain-file", "x");
            expectError(dir / "plain-file" / "x.gguf", "a file as folder");
            std::filesystem::create_directory(dir / "a-folder");
            expectError(dir / "a-folder", "a folder as target");
            const bool root = ::geteuid() == 0; // root writes anywhere
            if (!root) {
                std::filesystem::create_directory(dir / "ro");
                std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
                expectError(dir / "ro" / "x.gguf", "a read-only folder");
                QCOMPARE(entriesIn(dir / "ro"), std::size_t(0));
            }
            const std::size_t made = root ? 2 : 3; // plain-file, a-folder (and ro), nothing else
            QCOMPARE(entriesIn(dir.path()), made);
            // No space: the check runs before anything is created.
            QVERIFY_THROWS_EXCEPTION(Error, exporting::TemporaryOutput(dir / "huge.gguf", exporting::OutputKind::File,
                                                                       std::uint64_t(1) << 62));
            QCOMPARE(entriesIn(dir.path()), made);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // Cancel while tensors are written, and a failing verification: no temporary remains and an
    // existing file at the target keeps its content.
    void cancelAndFailedVerifyLeaveNothing()
    {
        try {
            test::ScratchDir dir;
            const auto m = model::openModel("demo");
            const auto out = dir / "demo.gguf";
            test::writeFile(out, "previous export");
            std::atomic<bool> cancel{false};
            int reports = 0;
            jobs::Progress progress(
                [&](const jobs::ProgressUpdate& u) {
                    if (u.stage.rfind("writing", 0) == 0 && ++reports == 10)
                        cancel = true;
                },
                &cancel);
            QVERIFY_THROWS_EXCEPTION(jobs::Cancelled, exporting::exportModel(request(m, out, "Q4_0"), &progress));
            QVERIFY(reports >= 10);
            QCOMPARE(entriesIn(dir.path()), std::size_t(1));
            QCOMPARE(test::readFile(out), std::string("previous export"));

            QVERIFY_THROWS_EXCEPTION(Error, exporting::writeSafely(
                                                dir / "other.bin", exporting::OutputKind::File, 10,
                                                [](const std::filesystem::path& p) { test::writeFile(p, "data"); },
                                                [](const std::filesystem::path& p) {
                                                    throw Error(p.string() + ": verification failed");
                                                }));
            QVERIFY_THROWS_EXCEPTION(Error, exporting::writeSafely(
                                                dir / "folder-out", exporting::OutputKind::Folder, 10,
                                                [](const std::filesystem::path& p) { test::writeFile(p / "a.json", "{}"); },
                                                [](const std::filesystem::path&) { throw Error("bad folder"); }));
            QCOMPARE(entriesIn(dir.path()), std::size_t(1));
            // A folder output replaces an existing folder whole.
            std::filesystem::create_directory(dir / "folder-out");
            test::writeFile(dir / "folder-out" / "old.txt", "old");
            exporting::writeSafely(
                dir / "folder-out", exporting::OutputKind::Folder, 10,
                [](const std::filesystem::path& p) { test::writeFile(p / "new.txt", "new"); }, nullptr);
            QVERIFY(std::filesystem::exists(dir / "folder-out" / "new.txt"));
            QVERIFY(!std::filesystem::exists(dir / "folder-out" / "old.txt"));
            QCOMPARE(entriesIn(dir.path()), std::size_t(2));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestGgufRoundTrip)
#include "test_gguf_roundtrip.moc"
