// Table-driven malformed input: every case is a file (or folder) the test builds itself and
// must end in a qs::io::FormatError or NotFoundError naming the file at fault (and the
// offset where one is meaningful), never a crash or a huge allocation.
#include "common/test_support.hpp"
#include "core/io/safetensors.hpp"
#include "core/util/error.hpp"
#include "safetensors_writer.hpp"

#include <QtTest/QtTest>

#include <fcntl.h>
#include <functional>
#include <optional>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace qs::test;

namespace {

struct MalformedCase {
    const char* name;
    // Writes the case under `dir` and returns what to open.
    std::function<fs::path(const fs::path& dir)> build;
    std::string faultyFile;            // file name the message must contain
    std::optional<std::uint64_t> offset; // offset the error must report, when meaningful
    std::string detail;                // a fragment of the explanation, when worth pinning
};

std::string f32Bytes(std::size_t n)
{
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = 0.25f * static_cast<float>(i + 1);
    return bytesOf(v);
}

fs::path single(const fs::path& dir, const std::string& bytes)
{
    const auto p = dir / "bad.safetensors";
    writeBytes(p, bytes);
    return p;
}

// A header entry with the given JSON fields and a data section of dataBytes.
fs::path entry(const fs::path& dir, const std::string& fields, std::size_t dataBytes)
{
    return single(dir, stRaw("{\"w\":{" + fields + "}}", f32Bytes(dataBytes / 4)));
}

// A valid three-shard folder whose index the case then spoils.
fs::path shardedFolder(const fs::path& dir, const std::function<void(nlohmann::json&)>& spoil)
{
    const auto a = stBuild({{"a", "F32", {2}, f32Bytes(2)}});
    const auto b = stBuild({{"b", "F32", {3}, f32Bytes(3)}});
    writeBytes(dir / "model-00001-of-00002.safetensors", a);
    writeBytes(dir / "model-00002-of-00002.safetensors", b);
    nlohmann::json index{{"metadata", {{"total_size", 20}}},
                         {"weight_map", {{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}}}};
    spoil(index);
    writeBytes(dir / "model.safetensors.index.json", index.dump());
    return dir;
}

const std::vector<MalformedCase>& cases()
{
    static const std::vector<MalformedCase> table{
        {"empty file", [](const fs::path& d) { return single(d, ""); }, "bad.safetensors", 0, "header length"},
        {"truncated before header length", [](const fs::path& d) { return single(d, std::string("\x10\0\0", 3)); },
         "bad.safetensors", 0, "header length"},
        {"header length larger than file", [](const fs::path& d) { return single(d, stPrefix(4096) + "{}"); },
         "bad.safetensors", 0, "exceeds"},
        {"huge declared header length 2^63", [](const fs::path& d) { return single(d, stPrefix(1ull << 63) + "{}"); },
         "bad.safetensors", 0, "exceeds"},
        {"header length over the 100 MB cap (sparse file)",
         [](const fs::path& d) {
             const auto p = single(d, stPrefix(100ull * 1024 * 1024 + 1) + "{");
             const int fd = ::open(p.c_str(), O_WRONLY);
             const bool ok = fd >= 0 && ::ftruncate(fd, 101ll * 1024 * 1024) == 0;
             if (fd >= 0)
                 ::close(fd);
             return ok ? p : fs::path();
         },
         "bad.safetensors", 0, "limit"},
        {"header length zero", [](const fs::path& d) { return single(d, stPrefix(0)); }, "bad.safetensors", 8, ""},
        {"garbage JSON", [](const fs::path& d) { return single(d, stRaw("{\"w\": {dtype: F32}")); },
         "bad.safetensors", 15, "invalid header JSON"},
        {"invalid UTF-8 in JSON",
         [](const fs::path& d) { return single(d, stRaw("{\"w\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", f32Bytes(1))); },
         "bad.safetensors", 11, "ill-formed UTF-8"},
        {"JSON not an object", [](const fs::path& d) { return single(d, stRaw("[1, 2, 3]")); }, "bad.safetensors", 8, "{"},
        {"trailing bytes after the JSON object", [](const fs::path& d) { return single(d, stRaw("{} {}")); },
         "bad.safetensors", 11, "invalid header JSON"},
        {"deeply nested JSON",
         [](const fs::path& d) { return single(d, stRaw("{\"w\":" + std::string(5000, '[') + std::string(5000, ']') + "}")); },
         "bad.safetensors", 8, "nests deeper"},
        {"entry not an object", [](const fs::path& d) { return single(d, stRaw("{\"w\": 5}")); }, "bad.safetensors", 8, "'w'"},
        {"unknown dtype", [](const fs::path& d) { return entry(d, R"("dtype":"F7","shape":[1],"data_offsets":[0,4])", 4); },
         "bad.safetensors", 8, "unknown dtype \"F7\""},
        {"missing dtype", [](const fs::path& d) { return entry(d, R"("shape":[1],"data_offsets":[0,4])", 4); },
         "bad.safetensors", 8, "dtype"},
        {"negative shape", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[-1,4],"data_offsets":[0,4])", 4); },
         "bad.safetensors", 8, "negative"},
        {"shape not an array", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":4,"data_offsets":[0,16])", 16); },
         "bad.safetensors", 8, "shape"},
        {"fractional shape entry", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[1.5],"data_offsets":[0,4])", 4); },
         "bad.safetensors", 8, "non-negative integer"},
        {"shape product overflow",
         [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4])", 4); },
         "bad.safetensors", 8, "overflow"},
        {"byte size overflow", // numel fits int64, numel * 8 does not
         [](const fs::path& d) { return entry(d, R"("dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8])", 8); },
         "bad.safetensors", 8, "overflow"},
        {"offsets out of range", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[4],"data_offsets":[0,16])", 8); },
         "bad.safetensors", 8, "beyond the data section"},
        {"offsets near 2^64", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615])", 4); },
         "bad.safetensors", 8, ""},
        {"begin > end", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[0],"data_offsets":[8,4])", 8); },
         "bad.safetensors", 8, "begin 8 > end 4"},
        {"size mismatch with shape", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[3],"data_offsets":[0,16])", 16); },
         "bad.safetensors", 8, "needs 12"},
        {"data_offsets wrong type", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[1],"data_offsets":["0","4"])", 4); },
         "bad.safetensors", 8, "data_offsets"},
        {"data_offsets three numbers", [](const fs::path& d) { return entry(d, R"("dtype":"F32","shape":[1],"data_offsets":[0,4,8])", 8); },
         "bad.safetensors", 8, "[begin, end]"},
        {"overlapping tensors",
         [](const fs::path& d) {
             return single(d, stRaw(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                                    f32Bytes(5)));
         },
         "bad.safetensors", 8, "overlap"},
        {"metadata not a string map",
         [](const fs::path& d) { return single(d, stRaw(R"({"__metadata__":{"format":1}})")); }, "bad.safetensors", 8,
         "__metadata__"},
        {"same tensor in two files of a folder",
         [](const fs::path& d) {
             writeBytes(d / "a.safetensors", stBuild({{"w", "F32", {1}, f32Bytes(1)}}));
             writeBytes(d / "b.safetensors", stBuild({{"w", "F32", {1}, f32Bytes(1)}}));
             return d;
         },
         "b.safetensors", std::nullopt, "also stored in"},
        {"missing shard in index",
         [](const fs::path& d) {
             const auto p = shardedFolder(d, [](nlohmann::json&) {});
             fs::remove(d / "model-00002-of-00002.safetensors");
             return p;
         },
         "model.safetensors.index.json", std::nullopt, "model-00002-of-00002.safetensors"},
        {"shard name with ../",
         [](const fs::path& d) {
             return shardedFolder(d, [](nlohmann::json& j) { j["weight_map"]["b"] = "../model-00002-of-00002.safetensors"; });
         },
         "model.safetensors.index.json", std::nullopt, "../model-00002"},
        {"absolute shard path",
         [](const fs::path& d) { return shardedFolder(d, [](nlohmann::json& j) { j["weight_map"]["b"] = "/etc/passwd"; }); },
         "model.safetensors.index.json", std::nullopt, "/etc/passwd"},
        {"index maps a tensor its shard lacks",
         [](const fs::path& d) {
             return shardedFolder(d, [](nlohmann::json& j) { j["weight_map"]["ghost"] = "model-00001-of-00002.safetensors"; });
         },
         "model.safetensors.index.json", std::nullopt, "ghost"},
        {"index weight_map not an object",
         [](const fs::path& d) { return shardedFolder(d, [](nlohmann::json& j) { j["weight_map"] = nlohmann::json::array(); }); },
         "model.safetensors.index.json", std::nullopt, "weight_map"},
        {"index JSON malformed",
         [](const fs::path& d) {
             shardedFolder(d, [](nlohmann::json&) {});
             writeBytes(d / "model.safetensors.index.json", "{\"weight_map\": {\"a\": ");
             return d;
         },
         "model.safetensors.index.json", std::nullopt, "invalid index JSON"},
        {"number out of double range in header", [](const fs::path& d) { return single(d, stRaw(R"({"w": 1e999})")); },
         "bad.safetensors", 8, "invalid header JSON"},
        {"number out of double range in index (fuzz finding)",
         [](const fs::path& d) {
             shardedFolder(d, [](nlohmann::json&) {});
             writeBytes(d / "model.safetensors.index.json", R"({"metadata": {"total_size": 121e3088}, "weight_map": {}})");
             return d;
         },
         "model.safetensors.index.json", std::nullopt, "invalid index JSON"},
        {"bad header inside a shard",
         [](const fs::path& d) {
             const auto p = shardedFolder(d, [](nlohmann::json&) {});
             writeBytes(d / "model-00001-of-00002.safetensors", stPrefix(999));
             return p;
         },
         "model-00001-of-00002.safetensors", 0, "exceeds"},
    };
    return table;
}

class SafetensorsMalformedTest : public QObject {
    Q_OBJECT

private slots:
    void malformed_data()
    {
        QTest::addColumn<int>("index");
        for (std::size_t i = 0; i < cases().size(); ++i)
            QTest::newRow(cases()[i].name) << static_cast<int>(i);
    }

    void malformed()
    {
        QFETCH(int, index);
        const MalformedCase& c = cases()[static_cast<std::size_t>(index)];
        ScratchDir dir;
        const fs::path target = c.build(dir.path());
        if (target.empty())
            QSKIP("could not build this case's file on this file system");
        std::string message;
        std::optional<std::uint64_t> offset;
        try {
            const auto ck = qs::io::openSafetensors(target);
            QFAIL(qPrintable(QString("opened without error: %1 tensors").arg(ck->tensors().size())));
        } catch (const qs::io::FormatError& e) {
            message = e.what();
            offset = e.offset();
            QVERIFY2(fs::path(e.file()).filename() == c.faultyFile, e.what());
        } catch (const qs::io::NotFoundError& e) {
            message = e.what();
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("wrong exception type: ") + e.what()));
        }
        qInfo("%s", message.c_str());
        QVERIFY2(message.find(c.faultyFile) != std::string::npos, message.c_str());
        QVERIFY2(message.find(dir.path().string()) != std::string::npos, message.c_str()); // full path, not just a name
        if (!c.detail.empty())
            QVERIFY2(message.find(c.detail) != std::string::npos, message.c_str());
        if (c.offset) {
            QVERIFY2(offset.has_value(), message.c_str());
            QCOMPARE(*offset, *c.offset);
            QVERIFY2(message.find("at offset " + std::to_string(*c.offset)) != std::string::npos, message.c_str());
        }
    }

    void enoughCases() { QVERIFY(cases().size() >= 20); }
};

} // namespace

QTEST_APPLESS_MAIN(SafetensorsMalformedTest)
#include "test_safetensors_malformed.moc"
