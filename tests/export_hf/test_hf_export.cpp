// HF exports of the demo model quantized in memory: the folder re-opens through the project's
// own loader (runtime::loadLlamaWeights) with every linear exactly equal to the in-memory
// weight as the format stores it (GPTQ/AWQ scales rounded to f16; codes, zeros, g_idx, NF4
// absmax exact), and the perplexity of the re-opened model equals that of the in-memory model
// rounded the same way, bit for bit; against the unrounded in-memory model it differs by less
// than 1e-3 relative. Errors and cancels leave nothing behind; damaged exports are refused
// with the file named.
#include "common/test_support.hpp"

#include "core/calib/calibration_set.hpp"
#include "core/compute/backend.hpp"
#include "core/eval/perplexity.hpp"
#include "core/io/raw_tensor_reader.hpp"
#include "core/io/safetensors_writer.hpp"
#include "core/export/export.hpp"
#include "core/export/hf_export.hpp"
#include "core/io/safetensors.hpp"
#include "core/io/tokenizer.hpp"
#include "core/model/model.hpp"
#include "core/quant/pipeline.hpp"
#include "core/quant/w8a8_linear.hpp"
#include "core/runtime/backend_linear.hpp"
#include "core/util/error.hpp"

#include <QtTest/QtTest>

#include <atomic>
#include <fstream>

using namespace qs;
namespace fs = std::filesystem;

namespace {

fs::path demoDir() { return test::sourceDir() / "resources" / "demo-model"; }
bool haveDemo() { return fs::exists(demoDir() / "model.safetensors"); }

struct Quantized {
    model::Model source;
    std::unique_ptr<runtime::Transformer> tf;
    quant::QuantizationRun run;
};

Quantized quantizeDemo(const quant::QuantConfig& cfg)
{
    Quantized q;
    q.source = model::openModel(demoDir().string());
    q.tf = std::make_unique<runtime::Transformer>(runtime::loadLlamaWeights(q.source));
    const auto set = calib::calibrationSetFromFile((demoDir() / "calibration.txt").string(), *q.source.tokenizer, 4, 64, 7);
    const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
    q.run = quant::quantizeModel(*q.tf, cfg, &set, backend);
    return q;
}

exporting::ExportRequest requestFor(const Quantized& q, exporting::ExportFormat f, const fs::path& out)
{
    exporting::ExportRequest r;
    r.source = &q.source;
    r.weights = &q.tf->weights();
    r.run = &q.run;
    r.format = f;
    r.output = out;
    return r;
}

std::vector<std::int32_t> evalTokens(const model::Model& m)
{
    return m.tokenizer->encode(test::readFile(demoDir() / "evaluation.txt").substr(0, 20000));
}

double ppl(const runtime::Transformer& tf, const std::vector<std::int32_t>& tokens)
{
    return eval::evaluatePerplexity(tf, tokens, 128, eval::PplProtocol::FullWindow, 3).perplexity();
}

const compute::WeightMatrix& weightOf(const runtime::LinearOp& op)
{
    if (const auto* b = dynamic_cast<const runtime::BackendLinear*>(&op))
        return b->weight();
    throw Error("not a BackendLinear: " + op.describe());
}

// Quantize, export, re-open, compare every linear and the perplexity.
void roundTrip(const quant::QuantConfig& cfg, exporting::ExportFormat f, bool gptqV2 = false)
{
    Quantized q = quantizeDemo(cfg);
    test::ScratchDir dir;
    auto req = requestFor(q, f, dir / "export");
    req.options.gptqV2 = gptqV2;
    const auto res = exporting::exportModel(req);
    QVERIFY(fs::exists(dir / "export" / "model.safetensors"));
    QVERIFY(fs::exists(dir / "export" / "tokenizer.json"));
    QVERIFY(fs::exists(dir / "export" / "generation_config.json"));
    QCOMPARE(fs::exists(dir / "export" / "quantize_config.json"), f == exporting::ExportFormat::Gptq);
    QVERIFY(res.tensorsVerified >= 7 * 6 + 6 * 2 + 3);
    QVERIFY(res.maxVerifyError < 1e-3);

    const model::Model reopened = model::openModel((dir / "export").string());
    const runtime::Transformer re(runtime::loadLlamaWeights(reopened));
    for (std::size_t b = 0; b < re.weights().blocks.size(); ++b)
        for (auto role : runtime::kAllLinearRoles) {
            std::string why;
            const auto& mem = weightOf(*q.tf->weights().blocks[b].linear(role));
            QVERIFY2(exporting::sameWeights(weightOf(re.weights().blocks[b].linear(role)), exporting::asExported(mem, f), &why),
                     (std::string(runtime::linearRoleName(role)) + ": " + why).c_str());
        }
    const auto tokens = evalTokens(q.source);
    const double inMemory = ppl(*q.tf, tokens);
    exporting::roundLikeHfExport(q.tf->weights(), f, false);
    const double rounded = ppl(*q.tf, tokens);
    const double reopenedPpl = ppl(re, tokens);
    qInfo("%s (%s): perplexity in memory %.6f, rounded as stored %.6f, re-opened export %.6f; %d tensors verified, "
          "max verify error %.3g, %.1f MiB",
          exporting::exportFormatName(f), cfg.describe().c_str(), inMemory, rounded, reopenedPpl, res.tensorsVerified,
          res.maxVerifyError, double(res.bytes) / (1 << 20));
    QCOMPARE(reopenedPpl, rounded); // the same weights through the same code: bit for bit
    QVERIFY(std::abs(reopenedPpl - inMemory) / inMemory < 1e-3);
}

quant::QuantConfig config(const std::string& method, int bits, int group, bool sym)
{
    quant::QuantConfig c;
    c.method = method;
    c.bits = bits;
    c.groupSize = group;
    c.symmetric = sym;
    return c;
}

bool emptyFolder(const fs::path& p) { return fs::is_empty(p); }

} // namespace

class TestHfExport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        Eigen::setNbThreads(1);
        if (!haveDemo())
            QSKIP("demo model missing");
    }
    void gptqActOrderV1();
    void rtn3BitSymmetricAsGptqV2();
    void awq();
    void nf4DoubleQuant();
    void w8a8Static();
    void fixturesTiedBiasesQkNorm();
    void unconvertedLinearStaysDense();
    void wrongMethodOrCancelLeavesNothing();
    void damagedExportIsRefused();
};

void TestHfExport::gptqActOrderV1()
{
    try {
        auto c = config("gptq", 4, 128, false);
        c.actOrder = true;
        roundTrip(c, exporting::ExportFormat::Gptq);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfExport::rtn3BitSymmetricAsGptqV2()
{
    try {
        roundTrip(config("rtn", 3, 64, true), exporting::ExportFormat::Gptq, true);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfExport::awq()
{
    try {
        roundTrip(config("awq", 4, 64, false), exporting::ExportFormat::Awq);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfExport::nf4DoubleQuant()
{
    try {
        roundTrip(config("nf4", 4, 64, false), exporting::ExportFormat::BnbNf4);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// W8A8 is not evaluated by the runtime: the export's own verification compares every int8
// weight, f32 scale and static input scale read back; here the folder's layout is checked.
void TestHfExport::w8a8Static()
{
    try {
        auto c = config("smoothquant", 8, 0, true);
        c.activationQuant = quant::ActivationQuant::PerTensorStatic;
        Quantized q = quantizeDemo(c);
        test::ScratchDir dir;
        const auto res = exporting::exportModel(requestFor(q, exporting::ExportFormat::W8a8, dir / "w8a8"));
        QVERIFY(res.tensorsVerified >= 7 * 6);
        const auto m = model::openModel((dir / "w8a8").string());
        const auto* w = m.checkpoint->find("model.layers.2.mlp.down_proj.weight");
        QVERIFY(w && w->dtype == "I8" && w->shape == (Shape{384, 1024}));
        const auto* s = m.checkpoint->find("model.layers.2.mlp.down_proj.weight_scale");
        QVERIFY(s && s->dtype == "F32" && s->shape == (Shape{384, 1}));
        const auto* in = m.checkpoint->find("model.layers.2.mlp.down_proj.input_scale");
        QVERIFY(in && in->shape == (Shape{1}));
        const auto* l = dynamic_cast<const quant::W8A8Linear*>(q.tf->weights().blocks[2].linears[6].get());
        QVERIFY(l);
        QCOMPARE(m.checkpoint->readF32("model.layers.2.mlp.down_proj.input_scale").data[0], l->staticScale());
        // The smoothed norms are what the file holds (f16 of the in-memory values).
        const auto norm = m.checkpoint->readF32("model.layers.2.input_layernorm.weight");
        QCOMPARE(norm.data[5], float(Eigen::half(q.tf->weights().blocks[2].inputNorm[5])));
        const auto config = nlohmann::json::parse(test::readFile(dir / "w8a8" / "config.json"));
        QCOMPARE(config["quantization_config"]["quant_method"].get<std::string>(), std::string("compressed-tensors"));
        // Loading it for evaluation is refused with a clear error naming the file.
        try {
            runtime::loadLlamaWeights(m);
            QFAIL("W8A8 loaded for evaluation");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("W8A8") != std::string::npos);
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// Tied embeddings (no lm_head written), q/k/v biases (Qwen2), q/k norms (Qwen3): RTN w4 g32 on
// the tiny fixtures through every re-openable format; the re-opened model's logits equal the
// rounded in-memory model's exactly.
void TestHfExport::fixturesTiedBiasesQkNorm()
{
    try {
        const auto backend = std::shared_ptr<compute::Backend>(compute::makeCpuBackend());
        for (const char* fixture : {"llama-tied", "qwen2", "qwen3"}) {
            for (auto f : {exporting::ExportFormat::Gptq, exporting::ExportFormat::Awq, exporting::ExportFormat::BnbNf4}) {
                Quantized q;
                q.source = model::openModel((test::fixturesDir() / fixture).string());
                q.tf = std::make_unique<runtime::Transformer>(runtime::loadLlamaWeights(q.source));
                auto c = config(f == exporting::ExportFormat::BnbNf4 ? "nf4" : "rtn", 4, 32, false);
                q.run = quant::quantizeModel(*q.tf, c, nullptr, backend);
                test::ScratchDir dir;
                const auto res = exporting::exportModel(requestFor(q, f, dir / "out"));
                const model::Model reopened = model::openModel((dir / "out").string());
                QCOMPARE(reopened.checkpoint->find("lm_head.weight") != nullptr, !q.source.spec.tieWordEmbeddings);
                const runtime::Transformer re(runtime::loadLlamaWeights(reopened));
                exporting::roundLikeHfExport(q.tf->weights(), f, false);
                const std::vector<std::int32_t> tokens = {1, 17, 42, 99, 200, 3, 8, 255, 64, 5};
                const runtime::Mat a = re.forward(tokens), b = q.tf->forward(tokens);
                QVERIFY2(a == b, (std::string(fixture) + " " + exporting::exportFormatName(f)).c_str());
                QVERIFY(res.tensorsVerified > 0);
            }
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

// A linear the quantizer left in float (modules_to_not_convert) opens as a dense linear.
void TestHfExport::unconvertedLinearStaysDense()
{
    try {
        Quantized q;
        q.source = model::openModel((test::fixturesDir() / "qwen2").string());
        q.tf = std::make_unique<runtime::Transformer>(runtime::loadLlamaWeights(q.source));
        q.run = quant::quantizeModel(*q.tf, config("rtn", 4, 32, false), nullptr,
                                     std::shared_ptr<compute::Backend>(compute::makeCpuBackend()));
        test::ScratchDir dir;
        exporting::exportModel(requestFor(q, exporting::ExportFormat::Gptq, dir / "out"));
        // Rewrite the file with block 0's down_proj as a plain f16 weight.
        const std::string down = "model.layers.0.mlp.down_proj";
        io::SafetensorsWriter w;
        {
            const auto ck = io::openSafetensors(dir / "out" / "model.safetensors");
            const io::RawTensorReader raw(*ck);
            for (const auto& t : ck->tensors())
                if (t.name.rfind(down + ".", 0) != 0)
                    w.add(t.name, *dtypeFromName(t.dtype), t.shape, raw.bytes(t.name, {*dtypeFromName(t.dtype)}));
        }
        std::vector<std::uint16_t> half(64 * 128);
        for (std::size_t i = 0; i < half.size(); ++i)
            half[i] = Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(0.001f * float(int(i % 97) - 48)));
        w.addArray(down + ".weight", DType::F16, Shape{64, 128}, half);
        {
            std::ofstream f(dir / "out" / "model.safetensors", std::ios::binary | std::ios::trunc);
            w.writeTo(f);
        }
        const model::Model reopened = model::openModel((dir / "out").string());
        const runtime::Transformer re(runtime::loadLlamaWeights(reopened));
        const auto* dense = dynamic_cast<const runtime::DenseLinear*>(&re.weights().blocks[0].linear(runtime::LinearRole::Down));
        QVERIFY(dense);
        QCOMPARE(dense->weight()(0, 100), float(Eigen::half(0.001f * float(100 % 97 - 48))));
        QVERIFY(dynamic_cast<const runtime::BackendLinear*>(&re.weights().blocks[0].linear(runtime::LinearRole::Up)));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfExport::wrongMethodOrCancelLeavesNothing()
{
    try {
        Quantized q = quantizeDemo(config("rtn", 4, 128, false));
        test::ScratchDir dir;
        // An asymmetric RTN result has no AWQ problem, but NF4 cannot hold it.
        QVERIFY_THROWS_EXCEPTION(Error, exporting::exportModel(requestFor(q, exporting::ExportFormat::BnbNf4, dir / "x")));
        QVERIFY(emptyFolder(dir.path()));
        QVERIFY_THROWS_EXCEPTION(Error, exporting::exportModel(requestFor(q, exporting::ExportFormat::W8a8, dir / "x")));
        QVERIFY(emptyFolder(dir.path()));
        // Cancelled while writing or verifying: the temporary folder is removed.
        std::atomic<bool> cancel{false};
        int reports = 0;
        jobs::Progress progress(
            [&](const jobs::ProgressUpdate& u) {
                if (u.stage.rfind("verifying", 0) == 0 && ++reports > 1)
                    cancel = true;
            },
            &cancel);
        QVERIFY_THROWS_EXCEPTION(jobs::Cancelled,
                                 exporting::exportModel(requestFor(q, exporting::ExportFormat::Gptq, dir / "x"), &progress));
        QVERIFY(emptyFolder(dir.path()));
        // Without a quantized model there is nothing to pack.
        auto plain = requestFor(q, exporting::ExportFormat::Gptq, dir / "x");
        plain.run = nullptr;
        QVERIFY_THROWS_EXCEPTION(Error, exporting::exportModel(plain));
        QVERIFY(emptyFolder(dir.path()));
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

void TestHfExport::damagedExportIsRefused()
{
    try {
        Quantized q = quantizeDemo(config("rtn", 4, 128, false));
        test::ScratchDir dir;
        exporting::exportModel(requestFor(q, exporting::ExportFormat::Awq, dir / "awq"));
        // A config that claims another group size: the packed tensors' shapes disagree.
        const auto cfgPath = dir / "awq" / "config.json";
        const std::string original = test::readFile(cfgPath);
        auto cfg = nlohmann::json::parse(original);
        cfg["quantization_config"]["group_size"] = 64;
        test::writeFile(cfgPath, cfg.dump());
        try {
            runtime::loadLlamaWeights(model::openModel((dir / "awq").string()));
            QFAIL("a wrong group size was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("model.safetensors") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("has shape") != std::string::npos, e.what());
        }
        cfg["quantization_config"]["quant_method"] = "hqq";
        test::writeFile(cfgPath, cfg.dump());
        QVERIFY_THROWS_EXCEPTION(io::FormatError, runtime::loadLlamaWeights(model::openModel((dir / "awq").string())));
        // A truncated weights file is refused at open, naming it.
        test::writeFile(cfgPath, original);
        const auto st = dir / "awq" / "model.safetensors";
        fs::resize_file(st, fs::file_size(st) / 2);
        try {
            runtime::loadLlamaWeights(model::openModel((dir / "awq").string()));
            QFAIL("a truncated file was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("model.safetensors") != std::string::npos, e.what());
        }
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
}

QTEST_GUILESS_MAIN(TestHfExport)
#include "test_hf_export.moc"
