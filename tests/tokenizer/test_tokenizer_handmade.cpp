// Hand-made tokenizer.json files with ids worked out by hand from the HF tokenizers rules:
// Llama-3 style byte-level (split regex, added tokens with lstrip / single_word, digits in
// threes, emoji, CJK), Llama-2 style sentencepiece (Prepend/Replace normalizer, byte fallback),
// Metaspace (prepend_scheme "first", unk fusing), and every Split behavior.
#include "common/test_support.hpp"
#include "core/io/tokenizer.hpp"
#include "core/io/tokenizer_unicode.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

using namespace qs;
using json = nlohmann::json;
using Ids = std::vector<std::int32_t>;

Q_DECLARE_METATYPE(Ids)

namespace {

const std::string kMeta = "\xE2\x96\x81"; // U+2581

const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json addedToken(int id, const std::string& content, bool special, json extra = json::object())
{
    json t = {{"id", id},         {"content", content}, {"single_word", false}, {"lstrip", false},
              {"rstrip", false},  {"normalized", false}, {"special", special}};
    t.update(extra);
    return t;
}

// Byte-level, Llama-3 style. Ids 0..255 are the bytes (GPT-2 map), then five merges.
json llama3Style(bool ignoreMerges)
{
    json vocab = json::object();
    const auto& map = io::unicode::byteToUnicode();
    for (int b = 0; b < 256; ++b)
        vocab[map[static_cast<std::size_t>(b)]] = b;
    const std::string G = map[' ']; // "Ġ"
    vocab[G + "t"] = 256;
    vocab["he"] = 257;
    vocab[G + "the"] = 258;
    vocab["12"] = 259;
    vocab["123"] = 260;
    vocab["hi"] = 265; // reachable only through ignore_merges
    return {
        {"version", "1.0"},
        {"added_tokens",
         {addedToken(261, "<|begin_of_text|>", true), addedToken(262, "<|eot|>", true),
          addedToken(263, "<mask>", false, {{"lstrip", true}}), addedToken(264, "xx", false, {{"single_word", true}})}},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", kLlama3Pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
        {"post_processor",
         {{"type", "Sequence"},
          {"processors",
           {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
            {{"type", "TemplateProcessing"},
             {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
             {"pair", json::array()},
             {"special_tokens",
              {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {261}}, {"tokens", {"<|begin_of_text|>"}}}}}}}}}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
        {"model",
         {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", ignoreMerges},
          {"vocab", vocab},
          {"merges", {G + " t", "h e", G + "t he", "1 2", "12 3"}}}}};
}

// Sentencepiece, Llama-2 style: normalizer Prepend + Replace, byte fallback, merges as pairs.
json llama2Style()
{
    json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
    char name[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = 3 + b;
    }
    int id = 259;
    for (const std::string t : {kMeta, std::string("h"), std::string("i"), std::string("e"), std::string("l"),
                                std::string("o"), kMeta + "h", kMeta + "hi", std::string("ll")})
        vocab[t] = id++;
    return {
        {"added_tokens", {addedToken(0, "<unk>", true), addedToken(1, "<s>", true), addedToken(2, "</s>", true)}},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "Prepend"}, {"prepend", kMeta}},
            {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}}}}}},
        {"pre_tokenizer", nullptr},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true}, {"vocab", vocab},
          {"merges", json::array({json::array({kMeta, "h"}), json::array({kMeta + "h", "i"}), json::array({"l", "l"})})}}}};
}

// Metaspace pre-tokenizer (prepend only at the start of the input), unk without byte fallback.
json metaspaceStyle(const std::string& scheme = "first")
{
    return {
        {"added_tokens", {addedToken(0, "<unk>", true), addedToken(6, "<sep>", true)}},
        {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", scheme}, {"split", true}}},
        {"decoder", {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", scheme}, {"split", true}}},
        {"model",
         {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", false},
          {"vocab", {{"<unk>", 0}, {kMeta, 1}, {"a", 2}, {"b", 3}, {kMeta + "a", 4}, {"ab", 5}}},
          {"merges", {kMeta + " a", "a b"}}}}};
}

// Character vocab with merges across "-", so each Split behavior shows in the ids. No decoder.
json splitStyle(const std::string& behavior, bool invert)
{
    return {{"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}}},
            {"model",
             {{"type", "BPE"},
              {"vocab", {{"a", 0}, {"b", 1}, {"-", 2}, {"a-", 3}, {"-b", 4}, {"--", 5}}},
              {"merges", {"a -", "- b", "- -"}}}}};
}

io::Tokenizer build(const json& j)
{
    return io::Tokenizer(io::Tokenizer::parseHfJson(j.dump(), "handmade/tokenizer.json"));
}

} // namespace

class TokenizerHandmade : public QObject {
    Q_OBJECT

    void table()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("text");
        QTest::addColumn<Ids>("ids");
        QTest::addColumn<QString>("decoded");
        const auto row = [](const char* name, const char* kind, const std::string& text, Ids ids, const std::string& decoded) {
            QTest::newRow(name) << QString(kind) << QString::fromStdString(text) << ids << QString::fromStdString(decoded);
        };
        // Llama-3 style. "the" -> t + he ("h e" is rank 1; "t he" is no merge).
        row("l3 words and digits", "llama3", "the 12345", {116, 257, 32, 260, 52, 53}, "the 12345");
        row("l3 merge chain", "llama3", " the", {258}, " the");
        row("l3 special inline", "llama3", "<|begin_of_text|>hi<|eot|>", {261, 104, 105, 262}, "<|begin_of_text|>hi<|eot|>");
        row("l3 whitespace runs", "llama3", "a  \n\n b", {97, 32, 32, 10, 10, 32, 98}, "a  \n\n b");
        row("l3 emoji and CJK", "llama3", "\xF0\x9F\x98\x80\xE4\xB8\xAD", {240, 159, 152, 128, 228, 184, 173},
            "\xF0\x9F\x98\x80\xE4\xB8\xAD");
        row("l3 contraction any case", "llama3", "I'LL", {73, 39, 76, 76}, "I'LL");
        row("l3 digits in threes", "llama3", "2024: 1234567", {50, 48, 50, 52, 58, 32, 260, 52, 53, 54, 55}, "2024: 1234567");
        // lstrip swallows the space before <mask>; decode cannot bring it back.
        row("l3 lstrip", "llama3", "a <mask> b", {97, 263, 32, 98}, "a<mask> b");
        // single_word: the second "xx" follows 'y', a word character, so it is not the token.
        row("l3 single_word", "llama3", "xx yxx", {264, 32, 121, 120, 120}, "xx yxx");
        row("l3 ignore_merges off", "llama3", "hi", {104, 105}, "hi");
        row("l3 ignore_merges on", "llama3-ignore", "hi", {265}, "hi");
        // Llama-2 style: 259 is U+2581, 265 "▁h", 266 "▁hi", 267 "ll"; byte <0xNN> is 3 + NN.
        row("l2 merges by rank", "llama2", "hello hi", {265, 262, 267, 264, 266}, "hello hi");
        row("l2 byte fallback CJK", "llama2", "\xE4\xB8\xAD", {259, 231, 187, 176}, "\xE4\xB8\xAD");
        row("l2 byte fallback emoji", "llama2", "\xF0\x9F\x98\x80", {259, 243, 162, 155, 131}, "\xF0\x9F\x98\x80");
        row("l2 special then text", "llama2", "<s>hi", {1, 266}, "<s> hi");
        row("l2 leading spaces", "llama2", "  hi", {259, 259, 266}, "  hi");
        row("l2 empty", "llama2", "", {}, "");
        // Metaspace "first": only the piece at the start of the input gets U+2581.
        row("ms stale heap entry", "metaspace", "ab ab", {4, 3, 4, 3}, "ab ab");
        row("ms fused unk", "metaspace", "xyz a", {1, 0, 4}, "<unk> a");
        row("ms after special", "metaspace", "a<sep>b", {4, 6, 3}, "a<sep>b");
        row("ms no merge", "metaspace", "ba", {1, 3, 2}, "ba");
        // "always": the piece after a special token gets U+2581 too; "never": no piece does.
        row("ms always after special", "metaspace-always", "a<sep>b", {4, 6, 1, 3}, "a<sep> b");
        row("ms never", "metaspace-never", "ab ab", {5, 4, 3}, "ab ab");
        // Split behaviors on "a--b" (no decoder: tokens joined by spaces).
        row("split Removed", "Removed", "a--b", {0, 1}, "a b");
        row("split Isolated", "Isolated", "a--b", {0, 2, 2, 1}, "a - - b");
        row("split MergedWithPrevious", "MergedWithPrevious", "a--b", {3, 2, 1}, "a- - b");
        row("split MergedWithNext", "MergedWithNext", "a--b", {0, 2, 4}, "a - -b");
        row("split Contiguous", "Contiguous", "a--b", {0, 5, 1}, "a -- b");
        row("split inverted Removed", "Removed-invert", "a--b", {2, 2}, "- -");
    }

    static io::Tokenizer tokenizerFor(const QString& kind)
    {
        if (kind == "llama3") return build(llama3Style(false));
        if (kind == "llama3-ignore") return build(llama3Style(true));
        if (kind == "llama2") return build(llama2Style());
        if (kind == "metaspace") return build(metaspaceStyle());
        if (kind == "metaspace-always") return build(metaspaceStyle("always"));
        if (kind == "metaspace-never") return build(metaspaceStyle("never"));
        const bool invert = kind.endsWith("-invert");
        return build(splitStyle(kind.section('-', 0, 0).toStdString(), invert));
    }

private slots:
    void encodeDecode_data() { table(); }
    void encodeDecode()
    {
        QFETCH(QString, kind);
        QFETCH(QString, text);
        QFETCH(Ids, ids);
        QFETCH(QString, decoded);
        try {
            const auto tok = tokenizerFor(kind);
            const auto got = tok.encode(text.toStdString());
            QCOMPARE(got, ids);
            QCOMPARE(QString::fromStdString(tok.decode(got)), decoded);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void addSpecialAndSkipSpecial()
    {
        try {
            const auto l3 = build(llama3Style(false));
            QCOMPARE(l3.encode("<|begin_of_text|>hi<|eot|>", true), (Ids{261, 261, 104, 105, 262}));
            QCOMPARE(l3.decode({261, 104, 105, 262}, true), std::string("hi"));
            QVERIFY(l3.spec().addBos && l3.spec().bosId == 261 && !l3.spec().addEos);
            QCOMPARE(l3.spec().kind, io::TokenizerSpec::Kind::ByteLevel);

            const auto l2 = build(llama2Style());
            QCOMPARE(l2.encode("", true), (Ids{1}));
            QCOMPARE(l2.encode("hello hi", true), (Ids{1, 265, 262, 267, 264, 266}));
            QCOMPARE(l2.decode({1, 266}, true), std::string("hi"));
            QCOMPARE(l2.spec().kind, io::TokenizerSpec::Kind::SentencePiece);
            // Byte tokens that are not valid UTF-8 decode to one U+FFFD each.
            QCOMPARE(l2.decode({259, 231, 187}), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));

            const auto ms = build(metaspaceStyle());
            QCOMPARE(ms.decode({4, 6, 3}, true), std::string("ab"));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void tokenizerConfigOverridesBos()
    {
        test::ScratchDir dir;
        test::writeFile(dir / "tokenizer.json", llama2Style().dump());
        test::writeFile(dir / "tokenizer_config.json",
                        R"({"add_bos_token": false, "add_eos_token": true, "bos_token": {"content": "<s>"}, "eos_token": "</s>"})");
        try {
            const auto tok = io::Tokenizer::fromHfFiles(dir / "tokenizer.json", dir / "tokenizer_config.json");
            QCOMPARE(tok.encode("hi", true), (Ids{266, 2}));
            const auto plain = io::Tokenizer::fromHfFiles(dir / "tokenizer.json");
            QCOMPARE(plain.encode("hi", true), (Ids{1, 266})); // BOS from the post_processor
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TokenizerHandmade)
#include "test_tokenizer_handmade.moc"
