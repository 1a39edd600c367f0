// Table-driven malformed GGUF files: each is a valid file with one thing broken, and each must
// be a FormatError naming the file (and the offset where one is meaningful), never a crash or
// an allocation sized by the broken number.
#include "common/test_support.hpp"
#include "gguf_test_writer.hpp"

#include "core/io/gguf.hpp"
#include "core/util/error.hpp"

#include <functional>

using namespace qs;
using namespace qs::test;

namespace {

constexpr std::uint32_t kF32 = 0, kQ4_0 = 2;

// A small valid file: metadata of several kinds and two F32 tensors.
GgufTestWriter validWriter()
{
    GgufTestWriter w;
    w.add("general.architecture", gv::str("llama"));
    w.add("general.name", gv::str("tiny"));
    w.add("tokenizer.ggml.tokens", gv::strings({"a", "b", "c"}));
    w.add("llama.block_count", gv::u32(1));
    w.addTensor("first", {8, 2}, kF32, std::string(64, '\x01'));
    w.addTensor("second", {16}, kF32, std::string(64, '\x02'));
    return w;
}

struct Case {
    std::string name;
    std::function<std::string()> bytes;
    std::string expect;     // a piece of the error's detail
    bool offsetMeaningful;  // the error must carry an offset
};

std::vector<Case> cases()
{
    std::vector<Case> c;
    c.push_back({"empty file", [] { return std::string(); }, "GGUF magic", true});
    c.push_back({"wrong magic", [] { auto b = validWriter().build(); b[0] = 'X'; return b; }, "GGUF magic", true});
    c.push_back({"version 1", [] { auto w = validWriter(); w.version = 1; return w.build(); }, "GGUF v1 not supported", true});
    c.push_back({"version 99", [] { auto w = validWriter(); w.version = 99; return w.build(); }, "version 99", true});
    c.push_back({"big-endian file", [] { auto w = validWriter(); w.version = 0x03000000; return w.build(); }, "big-endian", true});
    c.push_back({"truncated in header", [] { return validWriter().build().substr(0, 14); }, "truncated", true});
    c.push_back({"truncated in kv", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     return b.substr(0, w.marks.at("kv:llama.block_count:value") + 2);
                 }, "truncated: expected u32 value", true});
    c.push_back({"truncated in an array", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     return b.substr(0, w.marks.at("kv:tokenizer.ggml.tokens:value") + 20);
                 }, "array length 3 cannot fit", true});
    c.push_back({"key length past EOF", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint64_t>(b, w.marks.at("kv:general.name"), 1ull << 40);
                     return b;
                 }, "past the end", true});
    c.push_back({"string length past EOF", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint64_t>(b, w.marks.at("kv:general.name:value"), 0xffffffffffffff00ull);
                     return b;
                 }, "string length", true});
    c.push_back({"huge tensor count", [] {
                     auto w = validWriter();
                     w.tensorCountOverride = 1ull << 62;
                     return w.build();
                 }, "tensor count", true});
    c.push_back({"huge kv count", [] {
                     auto w = validWriter();
                     w.kvCountOverride = 0xffffffffffffffffull;
                     return w.build();
                 }, "key/value count", true});
    c.push_back({"huge array length", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     // The array value is: element type (u32), then its length (u64).
                     patch<std::uint64_t>(b, w.marks.at("kv:tokenizer.ggml.tokens:value") + 4, 1ull << 61);
                     return b;
                 }, "array length", true});
    c.push_back({"unknown value type", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("kv:general.name:value") - 4, 13);
                     return b;
                 }, "metadata value type 13", true});
    c.push_back({"bool not 0 or 1", [] {
                     auto w = validWriter();
                     w.add("x.flag", gv::boolean(true));
                     auto b = w.build();
                     b[w.marks.at("kv:x.flag:value")] = 7;
                     return b;
                 }, "bool value 7", true});
    c.push_back({"duplicate key", [] {
                     auto w = validWriter();
                     w.add("general.name", gv::str("again"));
                     return w.build();
                 }, "duplicate metadata key", true});
    c.push_back({"arrays nested too deep", [] {
                     GgufValue v = gv::u8(1);
                     for (int i = 0; i < 12; ++i)
                         v = gv::arr({v});
                     auto w = validWriter();
                     w.add("x.deep", v);
                     return w.build();
                 }, "nested deeper", true});
    c.push_back({"alignment 0", [] {
                     auto w = validWriter();
                     w.writeAlignmentKey = true;
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("kv:general.alignment:value"), 0);
                     return b;
                 }, "power of two", true});
    c.push_back({"alignment 3", [] {
                     auto w = validWriter();
                     w.writeAlignmentKey = true;
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("kv:general.alignment:value"), 3);
                     return b;
                 }, "power of two", true});
    c.push_back({"alignment a string", [] {
                     auto w = validWriter();
                     w.add("general.alignment", gv::str("32"));
                     return w.build();
                 }, "unsigned integer", true});
    c.push_back({"tensor offset out of range", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint64_t>(b, w.marks.at("tensor:second:offset"), 1ull << 20);
                     return b;
                 }, "outside the data section", true});
    c.push_back({"tensor offset wraps around", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint64_t>(b, w.marks.at("tensor:second:offset"), 0xffffffffffffffe0ull);
                     return b;
                 }, "outside the data section", true});
    c.push_back({"tensor offset unaligned", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint64_t>(b, w.marks.at("tensor:second:offset"), 8);
                     return b;
                 }, "not a multiple of the alignment", true});
    c.push_back({"overlapping tensors", [] {
                     auto w = validWriter();
                     w.addTensor("third", {32}, kF32, std::string(128, '\x03'), 64);
                     return w.build();
                 }, "overlaps", true});
    c.push_back({"duplicate tensor name", [] {
                     auto w = validWriter();
                     w.addTensor("first", {4}, kF32, std::string(16, '\x04'));
                     return w.build();
                 }, "duplicate tensor name", true});
    c.push_back({"unknown ggml type", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("tensor:first:type"), 4); // Q4_2, removed from ggml
                     return b;
                 }, "unknown ggml type 4", true});
    c.push_back({"ggml type far out of range", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("tensor:first:type"), 0xdeadbeef);
                     return b;
                 }, "unknown ggml type", true});
    c.push_back({"n_dims 7", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::uint32_t>(b, w.marks.at("tensor:first:ndims"), 7);
                     return b;
                 }, "n_dims 7", true});
    c.push_back({"negative dimension", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     patch<std::int64_t>(b, w.marks.at("tensor:first:dims"), -8);
                     return b;
                 }, "negative", true});
    c.push_back({"element count overflows", [] {
                     auto w = validWriter();
                     w.addTensor("huge", {1ull << 32, 1ull << 32}, kF32, std::string(16, '\x05'));
                     return w.build();
                 }, "63 bits", true});
    c.push_back({"byte count overflows", [] {
                     auto w = validWriter();
                     w.addTensor("wide", {1ull << 62}, 28 /* F64 */, std::string(16, '\x05'));
                     return w.build();
                 }, "63 bits", true});
    c.push_back({"dim not a multiple of the block size", [] {
                     auto w = validWriter();
                     w.addTensor("q", {48}, kQ4_0, std::string(18 * 2, '\x06'));
                     return w.build();
                 }, "multiple of the block size 32", true});
    c.push_back({"truncated data", [] {
                     auto b = validWriter().build();
                     return b.substr(0, b.size() - 10);
                 }, "truncated file or bad offset", true});
    c.push_back({"truncated before the data section", [] {
                     auto w = validWriter();
                     auto b = w.build();
                     return b.substr(0, w.marks.at("tensor:second:offset") + 8);
                 }, "data section should start", true});
    return c;
}

} // namespace

class TestGgufMalformed : public QObject {
    Q_OBJECT

private slots:
    void validBaselineOpens()
    {
        try {
            ScratchDir dir;
            writeFile(dir / "ok.gguf", validWriter().build());
            io::GgufCheckpoint ck(dir / "ok.gguf");
            QCOMPARE(ck.tensors().size(), std::size_t{2});
            QCOMPARE(ck.readF32("second").data.size(), std::size_t{16});
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void malformed_data()
    {
        QTest::addColumn<int>("index");
        const auto all = cases();
        QVERIFY(all.size() >= 20);
        for (std::size_t i = 0; i < all.size(); ++i)
            QTest::newRow(all[i].name.c_str()) << int(i);
    }

    void malformed()
    {
        QFETCH(int, index);
        const Case c = cases().at(static_cast<std::size_t>(index));
        ScratchDir dir;
        const auto path = dir / "broken.gguf";
        writeFile(path, c.bytes());
        try {
            io::GgufCheckpoint ck(path);
            QFAIL(qPrintable(QString::fromStdString("no error for: " + c.name)));
        } catch (const io::FormatError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find(path.string()) != std::string::npos, e.what());
            QCOMPARE(e.file(), path.string());
            QVERIFY2(e.detail().find(c.expect) != std::string::npos,
                     qPrintable(QString::fromStdString("expected \"" + c.expect + "\" in: " + msg)));
            if (c.offsetMeaningful)
                QVERIFY2(e.offset().has_value(), e.what());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString::fromStdString("not a FormatError: ") + e.what()));
        }
    }

    void missingFileIsNotFound()
    {
        ScratchDir dir;
        QVERIFY_THROWS_EXCEPTION(io::NotFoundError, io::GgufCheckpoint(dir / "absent.gguf"));
    }
};

QTEST_APPLESS_MAIN(TestGgufMalformed)
#include "test_gguf_malformed.moc"
