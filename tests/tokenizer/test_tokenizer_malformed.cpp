// Malformed tokenizer.json / tokenizer_config.json files, made here: each must throw
// FormatError naming the file and saying what was expected. Never a crash.
#include "common/test_support.hpp"
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

using namespace qs;
using json = nlohmann::json;

namespace {

// A small valid byte-level tokenizer.json that the cases below break one way each.
json valid()
{
    return {{"added_tokens", {{{"id", 3}, {"content", "<s>"}, {"special", true}}}},
            {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}}};
}

std::string with(const std::function<void(json&)>& edit)
{
    json j = valid();
    edit(j);
    return j.dump();
}

} // namespace

class TokenizerMalformed : public QObject {
    Q_OBJECT

private slots:
    void validBaseLoads()
    {
        test::ScratchDir dir;
        test::writeFile(dir / "tokenizer.json", valid().dump());
        try {
            const auto tok = io::Tokenizer::fromHfFiles(dir / "tokenizer.json");
            QCOMPARE(tok.encode("ab<s>"), (std::vector<std::int32_t>{2, 3}));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("tokenizerJson");
        QTest::addColumn<QByteArray>("configJson"); // empty: no tokenizer_config.json
        QTest::addColumn<QString>("expected");      // part of the message
        const auto row = [](const char* name, const std::string& tok, const std::string& cfg, const char* expected) {
            QTest::newRow(name) << QByteArray::fromStdString(tok) << QByteArray::fromStdString(cfg) << QString(expected);
        };
        row("not JSON", "{\"model\": ", "", "invalid JSON");
        row("empty file", "", "", "invalid JSON");
        row("number beyond double (fuzz finding)", "777.388e88888888888888", "", "invalid JSON");
        row("invalid UTF-8 in a string", with([](json&) {}).replace(1, 0, "\"\xFF\xFE\":1,"), "", "UTF-8");
        row("top level is an array", "[1,2]", "", "expected an object");
        row("no model", R"({"added_tokens": []})", "", "model: expected a value");
        row("Unigram model", with([](json& j) { j["model"]["type"] = "Unigram"; }), "",
            "tokenizer model type Unigram not supported yet");
        row("WordPiece model", with([](json& j) { j["model"]["type"] = "WordPiece"; }), "",
            "tokenizer model type WordPiece not supported yet");
        row("vocab not an object", with([](json& j) { j["model"]["vocab"] = json::array({"a", "b"}); }), "",
            "model.vocab: expected an object");
        row("vocab id not an integer", with([](json& j) { j["model"]["vocab"]["a"] = "zero"; }), "",
            "expected an integer");
        row("vocab id negative", with([](json& j) { j["model"]["vocab"]["a"] = -1; }), "", "at least 0");
        row("vocab id out of range", with([](json& j) { j["model"]["vocab"]["a"] = 4000000000u; }), "", "at most");
        row("vocab id duplicated", with([](json& j) { j["model"]["vocab"]["b"] = 0; }), "", "is given to both");
        row("merge with unknown token", with([](json& j) { j["model"]["merges"] = {"a c"}; }), "",
            "token \"c\" is not in model.vocab");
        row("merge result unknown", with([](json& j) { j["model"]["merges"] = {"b a"}; }), "",
            "merged token \"ba\" is not in model.vocab");
        row("merge with three parts", with([](json& j) { j["model"]["merges"] = {"a b c"}; }), "", "two tokens");
        row("merge of wrong type", with([](json& j) { j["model"]["merges"] = {42}; }), "", "expected \"left right\"");
        row("merges missing", with([](json& j) { j["model"].erase("merges"); }), "", "model.merges: expected a value");
        row("added token id clash", with([](json& j) { j["added_tokens"][0]["id"] = 1; }), "", "already belongs to");
        row("added token id out of range", with([](json& j) { j["added_tokens"][0]["id"] = 1000; }), "", "at most");
        row("added token empty", with([](json& j) { j["added_tokens"][0]["content"] = ""; }), "", "non-empty");
        row("unk not in vocab", with([](json& j) { j["model"]["unk_token"] = "<unk>"; }), "", "unk_token");
        row("unsupported pre-tokenizer", with([](json& j) { j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}}; }), "",
            "pre-tokenizer type BertPreTokenizer not supported yet");
        row("unsupported normalizer", with([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }), "",
            "normalizer type Lowercase not supported yet");
        row("bad split regex",
            with([](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}}; }),
            "", "does not compile");
        row("bad split behavior",
            with([](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}}; }),
            "", "expected Removed, Isolated");
        row("template names unknown token",
            with([](json& j) {
                j["post_processor"] = {{"type", "TemplateProcessing"},
                                       {"single", {{{"SpecialToken", {{"id", "<bos>"}}}}}},
                                       {"special_tokens", json::object()}};
            }),
            "", "is not in post_processor.special_tokens");
        json deep = {{"type", "ByteLevel"}};
        for (int k = 0; k < 40; ++k)
            deep = {{"type", "Sequence"}, {"pretokenizers", {deep}}};
        row("nesting too deep", with([&](json& j) { j["pre_tokenizer"] = deep; }), "", "nested too deeply");
        row("config bos not a token", valid().dump(), R"({"bos_token": "<bos>", "add_bos_token": true})",
            "is not a token of");
        row("config add_bos without bos", valid().dump(), R"({"add_bos_token": true})", "no bos_token");
        row("config not JSON", valid().dump(), "{,}", "invalid JSON");
        row("config bos of wrong type", valid().dump(), R"({"bos_token": 5})", "bos_token: expected a string");
    }

    void malformed()
    {
        QFETCH(QByteArray, tokenizerJson);
        QFETCH(QByteArray, configJson);
        QFETCH(QString, expected);
        test::ScratchDir dir;
        const auto tokPath = dir / "tokenizer.json";
        const auto cfgPath = dir / "tokenizer_config.json";
        test::writeFile(tokPath, tokenizerJson.toStdString());
        std::optional<std::filesystem::path> cfg;
        if (!configJson.isEmpty()) {
            test::writeFile(cfgPath, configJson.toStdString());
            cfg = cfgPath;
        }
        try {
            io::Tokenizer::fromHfFiles(tokPath, cfg);
            QFAIL("no error for a malformed file");
        } catch (const io::FormatError& e) {
            // The file at fault: the config when the case has one (the tokenizer.json is valid then).
            const auto faulty = configJson.isEmpty() ? tokPath : cfgPath;
            QCOMPARE(QString::fromStdString(e.file()), QString::fromStdString(faulty.string()));
            QVERIFY2(QString(e.what()).contains(expected), e.what());
            QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(e.file())), e.what());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("wrong exception type: ") + e.what()));
        }
    }

    void missingFileIsNotFound()
    {
        test::ScratchDir dir;
        QVERIFY_THROWS_EXCEPTION(io::NotFoundError, io::Tokenizer::fromHfFiles(dir / "absent.json"));
    }
};

QTEST_APPLESS_MAIN(TokenizerMalformed)
#include "test_tokenizer_malformed.moc"
