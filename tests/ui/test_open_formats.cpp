// Opening every kind of model the GUI is handed: the shipped demo model, the reference
// fixtures (tied, sharded, q/k/v biases, q/k norms) and a GGUF file written here.
#include "io_gguf/gguf_test_writer.hpp"
#include "tiny_checkpoint.hpp"
#include "ui/panels/layer_browser.hpp"
#include "ui/settings/recent_models.hpp"
#include "ui/windows/main_window.hpp"
#include "window_test_support.hpp"

#include <QSettings>
#include <QTreeView>
#include <QtTest/QtTest>

#include <cstring>
#include <random>

using qs::test::kWaitMs;
using qs::test::labelText;
using qs::ui::MainWindow;

class TestOpenFormats : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("QuantScopeTest"));
    }

    void init() { QSettings().clear(); }

    void opensTheDemoModel()
    {
        if (!std::filesystem::exists(qs::test::sourceDir() / "resources" / "demo-model" / "model.safetensors"))
            QSKIP("resources/demo-model has no weights yet");
        MainWindow w;
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        w.openModel(QStringLiteral("demo"));
        QVERIFY2(opened.wait(kWaitMs), failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(1).toString()));
        const auto& spec = w.currentModel()->spec;
        QVERIFY(spec.supported);
        QVERIFY(spec.numLayers > 0);
        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        // Embeddings, the blocks, the final norm, and the LM head unless it is tied.
        QCOMPARE(tree->rowCount(), int(1 + spec.numLayers + (spec.tieWordEmbeddings ? 1 : 2)));
        QVERIFY(w.selectTensor(QStringLiteral("model.layers.0.mlp.down_proj.weight")));
        QCOMPARE(labelText(w, "tensorShape"), QStringLiteral("[%1, %2]").arg(spec.hiddenSize).arg(spec.intermediateSize));
        QVERIFY2(labelText(w, "summaryTokenizer").contains(QStringLiteral("BPE")), qPrintable(labelText(w, "summaryTokenizer")));
        QCOMPARE(qs::ui::RecentModels::load(), QStringList{QStringLiteral("demo")});
    }

    void opensReferenceFixtures_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("topRows");        // embeddings, 2 blocks, final norm, [LM head]
        QTest::addColumn<QStringList>("attention"); // Block 1 > Attention, in tree order
        QTest::addColumn<int>("files");
        const QStringList plain{"q_proj", "k_proj", "v_proj", "o_proj"};
        QTest::newRow("llama") << "llama" << 5 << plain << 1;
        QTest::newRow("llama-tied") << "llama-tied" << 4 << plain << 1;
        QTest::newRow("llama-sharded") << "llama-sharded" << 5 << plain << 9;
        QTest::newRow("qwen2 biases") << "qwen2" << 5
                                      << QStringList{"q_proj", "q_proj.bias", "k_proj", "k_proj.bias", "v_proj",
                                                     "v_proj.bias", "o_proj"}
                                      << 1;
        QTest::newRow("qwen3 q/k norms") << "qwen3" << 5 << (plain + QStringList{"q_norm", "k_norm"}) << 1;
    }

    void opensReferenceFixtures()
    {
        QFETCH(QString, fixture);
        QFETCH(int, topRows);
        QFETCH(QStringList, attention);
        QFETCH(int, files);
        const auto dir = qs::test::fixturesDir() / fixture.toStdString();
        if (!std::filesystem::exists(dir / "config.json"))
            QSKIP("fixture missing");
        MainWindow w;
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        w.openModel(QString::fromStdString(dir.string()));
        QVERIFY2(opened.wait(kWaitMs), failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(1).toString()));
        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        QCOMPARE(tree->rowCount(), topRows);
        const QModelIndex attn = tree->index(0, 0, tree->index(2, 0));
        QCOMPARE(attn.data().toString(), QStringLiteral("Attention"));
        QStringList labels;
        for (int r = 0; r < tree->rowCount(attn); ++r)
            labels << tree->index(r, 0, attn).data().toString();
        QCOMPARE(labels, attention);
        QCOMPARE(labelText(w, "summaryStatus"), QStringLiteral("supported"));
        QVERIFY2(labelText(w, "summaryFormat").endsWith(QStringLiteral("in %1 file(s)").arg(files)),
                 qPrintable(labelText(w, "summaryFormat")));
    }

    void opensGgufFile()
    {
        // A llama.cpp-named model: the tree groups GGUF names the same way as HF ones.
        namespace gv = qs::test::gv;
        qs::test::GgufTestWriter g;
        const int h = shape_.hidden, f = shape_.intermediate;
        g.add("general.architecture", gv::str("llama"));
        g.add("llama.block_count", gv::u32(2));
        g.add("llama.embedding_length", gv::u32(h));
        g.add("llama.feed_forward_length", gv::u32(f));
        g.add("llama.attention.head_count", gv::u32(shape_.heads));
        g.add("llama.attention.head_count_kv", gv::u32(shape_.kvHeads));
        g.add("llama.context_length", gv::u32(128));
        std::mt19937 rng(std::random_device{}());
        std::normal_distribution<float> dist(0.0f, 0.02f);
        auto addF32 = [&](const std::string& name, std::uint64_t rows, std::uint64_t cols) {
            std::string bytes(rows * cols * 4, '\0');
            for (std::uint64_t i = 0; i < rows * cols; ++i) {
                const float v = dist(rng);
                std::memcpy(bytes.data() + i * 4, &v, 4);
            }
            g.addTensor(name, cols == 1 ? std::vector<std::uint64_t>{rows} : std::vector<std::uint64_t>{cols, rows},
                        0 /* GGML_TYPE_F32 */, std::move(bytes));
        };
        addF32("token_embd.weight", static_cast<std::uint64_t>(shape_.vocab), h);
        for (int b = 0; b < 2; ++b) {
            const std::string p = "blk." + std::to_string(b) + ".";
            addF32(p + "attn_norm.weight", h, 1);
            addF32(p + "attn_q.weight", h, h);
            addF32(p + "attn_k.weight", h / shape_.heads * shape_.kvHeads, h);
            addF32(p + "attn_v.weight", h / shape_.heads * shape_.kvHeads, h);
            addF32(p + "attn_output.weight", h, h);
            addF32(p + "ffn_norm.weight", h, 1);
            addF32(p + "ffn_gate.weight", f, h);
            addF32(p + "ffn_up.weight", f, h);
            addF32(p + "ffn_down.weight", h, f);
        }
        addF32("output_norm.weight", h, 1);
        const auto file = scratch_ / "tiny.gguf";
        qs::test::writeFile(file, g.build());

        MainWindow w;
        w.show();
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QSignalSpy failed(&w, &MainWindow::modelOpenFailed);
        w.openModel(QString::fromStdString(file.string()));
        QVERIFY2(opened.wait(kWaitMs), failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(1).toString()));
        QAbstractItemModel* tree = w.layerBrowser()->view()->model();
        QStringList top;
        for (int r = 0; r < tree->rowCount(); ++r)
            top << tree->index(r, 0).data().toString();
        QCOMPARE(top, (QStringList{"Embeddings", "Block 0", "Block 1", "Final norm"})); // output tied
        const QModelIndex attn = tree->index(0, 0, tree->index(2, 0));
        QCOMPARE(tree->rowCount(attn), 4);
        QCOMPARE(tree->index(3, 0, attn).data().toString(), QStringLiteral("attn_output"));
        QVERIFY(w.selectTensor(QStringLiteral("blk.1.ffn_down.weight")));
        QCOMPARE(labelText(w, "tensorShape"), QStringLiteral("[%1, %2]").arg(h).arg(f));
        QCOMPARE(labelText(w, "tensorDtype"), QStringLiteral("F32"));
        QVERIFY(labelText(w, "summaryFormat").startsWith(QStringLiteral("gguf")));
        QCOMPARE(labelText(w, "summaryLayers"), QStringLiteral("2"));
    }

private:
    qs::test::ScratchDir scratch_;
    qs::test::TinyModelShape shape_{3, 16, 4, 2, 32, 64};
};

QTEST_MAIN(TestOpenFormats)
#include "test_open_formats.moc"
