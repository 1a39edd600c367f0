// Golden ids made by the HF tokenizers library (tests/fixtures/tokenizers): every
// tokenizer.json there with a JSON-lines goldens file beside it must give exactly the same
// ids (without and with special tokens) and the same decoded text. Skipped when absent.
#include "common/test_support.hpp"
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

using namespace qs;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct GoldenSet {
    fs::path tokenizer;
    fs::path goldens;
};

// tests/fixtures/tokenizers/info.json names each tokenizer.json and its goldens (paths relative
// to the source tree); without it, NAME/tokenizer.json beside NAME.jsonl.
std::vector<GoldenSet> findGoldenSets(const fs::path& root)
{
    std::vector<GoldenSet> sets;
    if (!fs::is_directory(root))
        return sets;
    if (fs::exists(root / "info.json")) {
        const json info = json::parse(test::readFile(root / "info.json"));
        for (auto it = info.begin(); it != info.end(); ++it) {
            GoldenSet s{test::sourceDir() / it.value().at("tokenizer_json").get<std::string>(),
                        test::sourceDir() / it.value().at("golden").get<std::string>()};
            if (fs::exists(s.tokenizer) && fs::exists(s.goldens))
                sets.push_back(s);
        }
        return sets;
    }
    for (const auto& entry : fs::directory_iterator(root)) {
        const fs::path p = entry.path();
        if (entry.is_directory() && fs::exists(p / "tokenizer.json") && fs::exists(root / (p.filename().string() + ".jsonl")))
            sets.push_back({p / "tokenizer.json", root / (p.filename().string() + ".jsonl")});
    }
    std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.tokenizer < b.tokenizer; });
    return sets;
}

std::string ids(const std::vector<std::int32_t>& v)
{
    std::ostringstream s;
    for (std::size_t k = 0; k < v.size(); ++k)
        s << (k ? "," : "") << v[k];
    return s.str();
}

} // namespace

class TokenizerGolden : public QObject {
    Q_OBJECT

private slots:
    void hfGoldens_data()
    {
        QTest::addColumn<QString>("tokenizer");
        QTest::addColumn<QString>("goldens");
        const auto sets = findGoldenSets(test::fixturesDir() / "tokenizers");
        if (sets.empty())
            QTest::newRow("absent") << QString() << QString();
        for (const auto& s : sets)
            QTest::newRow(s.goldens.stem().string().c_str())
                << QString::fromStdString(s.tokenizer.string()) << QString::fromStdString(s.goldens.string());
    }

    void hfGoldens()
    {
        QFETCH(QString, tokenizer);
        QFETCH(QString, goldens);
        if (tokenizer.isEmpty())
            QSKIP("tests/fixtures/tokenizers has no tokenizer.json with goldens yet");
        try {
            const auto tok = io::Tokenizer::fromHfFiles(tokenizer.toStdString());
            std::istringstream lines(test::readFile(goldens.toStdString()));
            std::string line;
            int checked = 0, lineNo = 0;
            while (std::getline(lines, line)) {
                ++lineNo;
                if (line.empty())
                    continue;
                const json g = json::parse(line);
                const std::string text = g.at("text").get<std::string>();
                const QString where = QString("%1 line %2").arg(goldens).arg(lineNo);
                const auto got = tok.encode(text);
                if (g.contains("ids"))
                    QVERIFY2(got == g["ids"].get<std::vector<std::int32_t>>(),
                             qPrintable(where + ": ids " + QString::fromStdString(ids(got)) + " want " +
                                        QString::fromStdString(ids(g["ids"].get<std::vector<std::int32_t>>()))));
                if (g.contains("ids_special")) {
                    const auto gotSpecial = tok.encode(text, true);
                    QVERIFY2(gotSpecial == g["ids_special"].get<std::vector<std::int32_t>>(),
                             qPrintable(where + ": ids_special " + QString::fromStdString(ids(gotSpecial)) + " want " +
                                        QString::fromStdString(ids(g["ids_special"].get<std::vector<std::int32_t>>()))));
                }
                if (g.contains("decoded") && g.contains("ids"))
                    QCOMPARE(QString::fromStdString(tok.decode(g["ids"].get<std::vector<std::int32_t>>())),
                             QString::fromStdString(g["decoded"].get<std::string>()));
                ++checked;
            }
            QVERIFY2(checked > 0, qPrintable(goldens + " has no golden lines"));
            qInfo("%d golden lines match exactly", checked);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    // The shipped demo model's tokenizer loads and round-trips its calibration text.
    void demoModelTokenizer()
    {
        const fs::path dir = test::sourceDir() / "resources" / "demo-model";
        if (!fs::exists(dir / "tokenizer.json"))
            QSKIP("resources/demo-model/tokenizer.json is absent");
        try {
            const auto cfg = dir / "tokenizer_config.json";
            const auto tok = io::Tokenizer::fromHfFiles(dir / "tokenizer.json",
                                                        fs::exists(cfg) ? std::optional<fs::path>(cfg) : std::nullopt);
            QVERIFY(tok.vocabSize() > 256);
            for (const char* name : {"calibration.txt", "evaluation.txt"}) {
                if (!fs::exists(dir / name))
                    continue;
                const std::string text = test::readFile(dir / name).substr(0, 200000);
                const auto ids = tok.encode(text);
                QVERIFY(!ids.empty() && ids.size() < text.size());
                if (tok.spec().kind == io::TokenizerSpec::Kind::ByteLevel)
                    QVERIFY2(tok.decode(ids) == text, name);
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TokenizerGolden)
#include "test_tokenizer_golden.moc"
