// Reading well-formed safetensors files the test writes itself: every dtype converted to f32
// against an independent computation, single files, folders, sharded folders.
#include "common/test_support.hpp"
#include "core/io/safetensors.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"
#include "safetensors_writer.hpp"

#include <Eigen/Core>
#include <QtTest/QtTest>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

using qs::test::StTensor;
namespace fs = std::filesystem;

namespace {

// Exact comparison: conversions to f32 from these formats are exact (or, for F64/I32/I64,
// the same rounding as static_cast), so bit equality is the right check; NaN matches NaN.
bool sameFloat(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

// An independent FP8 decoder written from the OCP 8-bit floating point spec (v1.0) tables:
// value = (-1)^S * 2^(E - bias) * 1.M, subnormals 2^(1 - bias) * 0.M.
double ocpFp8(std::uint8_t b, bool e4m3)
{
    const int mBits = e4m3 ? 3 : 2, eBits = e4m3 ? 4 : 5, bias = e4m3 ? 7 : 15;
    const int s = b >> 7, e = (b >> mBits) & ((1 << eBits) - 1), m = b & ((1 << mBits) - 1);
    const double sign = s ? -1.0 : 1.0;
    if (e4m3 && e == 15 && m == 7)
        return std::numeric_limits<double>::quiet_NaN();
    if (!e4m3 && e == 31)
        return m == 0 ? sign * std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    if (e == 0)
        return sign * std::pow(2.0, 1 - bias) * (m / double(1 << mBits));
    return sign * std::pow(2.0, e - bias) * (1.0 + m / double(1 << mBits));
}

struct Generated {
    StTensor tensor;
    std::vector<float> expected;
};

class SafetensorsReadTest : public QObject {
    Q_OBJECT

    std::mt19937_64 rng_;

    template <typename T>
    std::vector<T> randomInts(std::size_t n)
    {
        std::uniform_int_distribution<long long> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
        std::vector<T> v(n);
        for (auto& x : v)
            x = static_cast<T>(d(rng_));
        return v;
    }

    template <typename T>
    Generated intTensor(const std::string& name, const std::string& dtype, std::vector<std::int64_t> shape)
    {
        auto v = randomInts<T>(static_cast<std::size_t>(qs::numelOf(shape)));
        std::vector<float> exp(v.begin(), v.end()); // static_cast<float> per element
        return {{name, dtype, shape, qs::test::bytesOf(v)}, exp};
    }

    // Every dtype with fresh random contents and its expected f32 values computed without
    // the code under test (Eigen's half/bfloat16, static_cast, the OCP decoder above).
    std::vector<Generated> everyDtype()
    {
        std::vector<Generated> g;
        std::normal_distribution<float> nd(0.0f, 3.0f);
        {
            std::vector<float> v(6 * 7);
            for (auto& x : v)
                x = nd(rng_);
            g.push_back({{"f32", "F32", {6, 7}, qs::test::bytesOf(v)}, v});
        }
        for (const char* dt : {"F16", "BF16"}) {
            // Raw random 16-bit patterns: covers subnormals, infinities and NaNs too.
            auto bits = randomInts<std::uint16_t>(5 * 9 * 2);
            std::vector<float> exp;
            for (auto b : bits)
                exp.push_back(std::string(dt) == "F16" ? static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(b))
                                                       : static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(b)));
            g.push_back({{std::string("t_") + dt, dt, {5, 9, 2}, qs::test::bytesOf(bits)}, exp});
        }
        {
            std::vector<double> v(33);
            for (auto& x : v)
                x = std::ldexp(static_cast<double>(nd(rng_)), static_cast<int>(rng_() % 80) - 40);
            std::vector<float> exp;
            for (auto x : v)
                exp.push_back(static_cast<float>(x));
            g.push_back({{"f64", "F64", {33}, qs::test::bytesOf(v)}, exp});
        }
        g.push_back(intTensor<std::int8_t>("i8", "I8", {3, 11}));
        g.push_back(intTensor<std::uint8_t>("u8", "U8", {2, 2, 5}));
        g.push_back(intTensor<std::int16_t>("i16", "I16", {17}));
        g.push_back(intTensor<std::int32_t>("i32", "I32", {4, 4}));
        g.push_back(intTensor<std::int64_t>("i64", "I64", {13}));
        {
            std::vector<std::uint8_t> v(19);
            for (auto& x : v)
                x = rng_() & 1;
            g.push_back({{"bool", "BOOL", {19}, qs::test::bytesOf(v)}, std::vector<float>(v.begin(), v.end())});
        }
        for (bool e4m3 : {true, false}) {
            auto v = randomInts<std::uint8_t>(64);
            std::vector<float> exp;
            for (auto b : v)
                exp.push_back(static_cast<float>(ocpFp8(b, e4m3)));
            g.push_back({{e4m3 ? "fp8a" : "fp8b", e4m3 ? "F8_E4M3" : "F8_E5M2", {8, 8}, qs::test::bytesOf(v)}, exp});
        }
        return g;
    }

    void checkTensor(const qs::io::Checkpoint& ck, const Generated& g)
    {
        const auto t = ck.readF32(g.tensor.name);
        QCOMPARE(t.shape, g.tensor.shape);
        QCOMPARE(t.data.size(), g.expected.size());
        for (std::size_t i = 0; i < g.expected.size(); ++i)
            if (!sameFloat(t.data[i], g.expected[i]))
                QFAIL(qPrintable(QString("%1[%2]: got %3, expected %4 (dtype %5)")
                                     .arg(QString::fromStdString(g.tensor.name)).arg(i).arg(t.data[i])
                                     .arg(g.expected[i]).arg(QString::fromStdString(g.tensor.dtype))));
    }

private slots:
    void initTestCase()
    {
        const auto seed = std::random_device{}();
        qInfo("seed %u", seed);
        rng_.seed(seed);
    }

    void dtypeNamesAndSizes()
    {
        const std::vector<std::pair<std::string, std::size_t>> table{
            {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I8", 1}, {"U8", 1}, {"I16", 2},
            {"I32", 4}, {"I64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
        for (const auto& [name, size] : table) {
            const auto t = qs::dtypeFromName(name);
            QVERIFY2(t.has_value(), name.c_str());
            QCOMPARE(std::string(qs::dtypeName(*t)), name);
            QCOMPARE(qs::dtypeSize(*t), size);
        }
        QVERIFY(!qs::dtypeFromName("f32"));
        QVERIFY(!qs::dtypeFromName("Q4_K"));
        QVERIFY(!qs::dtypeFromName(""));
    }

    // Bit patterns -> values straight from the OCP FP8 spec's tables.
    void fp8KnownBitPatterns()
    {
        QCOMPARE(qs::fp8E4M3ToF32(0x7e), 448.0f);                 // max normal
        QCOMPARE(qs::fp8E4M3ToF32(0xfe), -448.0f);
        QCOMPARE(qs::fp8E4M3ToF32(0x01), std::ldexp(1.0f, -9));   // min subnormal
        QCOMPARE(qs::fp8E4M3ToF32(0x07), 7 * std::ldexp(1.0f, -9)); // max subnormal
        QCOMPARE(qs::fp8E4M3ToF32(0x08), std::ldexp(1.0f, -6));   // min normal
        QCOMPARE(qs::fp8E4M3ToF32(0x38), 1.0f);
        QCOMPARE(qs::fp8E4M3ToF32(0x78), 256.0f);                 // e=15 is a normal binade in e4m3fn
        QVERIFY(std::isnan(qs::fp8E4M3ToF32(0x7f)));
        QVERIFY(std::isnan(qs::fp8E4M3ToF32(0xff)));
        QVERIFY(std::signbit(qs::fp8E4M3ToF32(0x80)) && qs::fp8E4M3ToF32(0x80) == 0.0f);

        QCOMPARE(qs::fp8E5M2ToF32(0x7b), 57344.0f);               // max normal
        QCOMPARE(qs::fp8E5M2ToF32(0x7c), std::numeric_limits<float>::infinity());
        QCOMPARE(qs::fp8E5M2ToF32(0xfc), -std::numeric_limits<float>::infinity());
        QVERIFY(std::isnan(qs::fp8E5M2ToF32(0x7d)) && std::isnan(qs::fp8E5M2ToF32(0x7f)) && std::isnan(qs::fp8E5M2ToF32(0xfe)));
        QCOMPARE(qs::fp8E5M2ToF32(0x01), std::ldexp(1.0f, -16));  // min subnormal
        QCOMPARE(qs::fp8E5M2ToF32(0x04), std::ldexp(1.0f, -14));  // min normal
        QCOMPARE(qs::fp8E5M2ToF32(0x3c), 1.0f);
        // Every code agrees with the spec decoder, and finite positive codes are increasing.
        for (int b = 0; b < 256; ++b) {
            QVERIFY(sameFloat(qs::fp8E4M3ToF32(b), static_cast<float>(ocpFp8(b, true))));
            QVERIFY(sameFloat(qs::fp8E5M2ToF32(b), static_cast<float>(ocpFp8(b, false))));
        }
        for (int b = 1; b < 0x7f; ++b)
            QVERIFY(qs::fp8E4M3ToF32(b) > qs::fp8E4M3ToF32(b - 1));
        for (int b = 1; b < 0x7c; ++b)
            QVERIFY(qs::fp8E5M2ToF32(b) > qs::fp8E5M2ToF32(b - 1));
    }

    void halfSubnormalsAndSpecials()
    {
        QCOMPARE(qs::halfToF32(0x0001), std::ldexp(1.0f, -24));
        QCOMPARE(qs::halfToF32(0x03ff), 1023 * std::ldexp(1.0f, -24));
        QCOMPARE(qs::halfToF32(0x3c00), 1.0f);
        QCOMPARE(qs::halfToF32(0x7bff), 65504.0f);
        QCOMPARE(qs::halfToF32(0xfc00), -std::numeric_limits<float>::infinity());
        QVERIFY(std::isnan(qs::halfToF32(0x7e00)));
        for (std::uint32_t b = 0; b < 0x10000; ++b)
            QVERIFY(sameFloat(qs::halfToF32(b), static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(std::uint16_t(b)))));
    }

    void everyDtypeInOneFile()
    {
        qs::test::ScratchDir dir;
        const auto gen = everyDtype();
        std::vector<StTensor> ts;
        for (const auto& g : gen)
            ts.push_back(g.tensor);
        const auto file = dir / "all.safetensors";
        const std::string bytes = qs::test::stBuild(ts, {{"format", "pt"}, {"note", "fresh random"}});
        qs::test::writeBytes(file, bytes);
        try {
            const auto ck = qs::io::openSafetensors(file);
            QCOMPARE(ck->format(), std::string("safetensors"));
            QCOMPARE(ck->tensors().size(), gen.size());
            QCOMPARE(ck->metadata().at("format"), std::string("pt"));
            QCOMPARE(ck->metadata().at("note"), std::string("fresh random"));

            // Infos: data order, absolute offsets (8 + N + begin), sizes as written.
            std::uint64_t n = 0;
            std::memcpy(&n, bytes.data(), 8);
            std::uint64_t expectOffset = 8 + n;
            for (std::size_t i = 0; i < gen.size(); ++i) {
                const auto& info = ck->tensors()[i];
                QCOMPARE(info.name, gen[i].tensor.name);
                QCOMPARE(info.dtype, gen[i].tensor.dtype);
                QCOMPARE(info.shape, gen[i].tensor.shape);
                QCOMPARE(info.offset, expectOffset);
                QCOMPARE(info.nbytes, static_cast<std::uint64_t>(gen[i].tensor.bytes.size()));
                QCOMPARE(fs::path(info.file), file);
                QVERIFY(std::memcmp(bytes.data() + info.offset, gen[i].tensor.bytes.data(), info.nbytes) == 0);
                expectOffset += info.nbytes;
            }
            for (const auto& g : gen)
                checkTensor(*ck, g);
            QVERIFY(ck->find("i16") != nullptr);
            QVERIFY(ck->find("missing") == nullptr);
            QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, ck->readF32("missing"));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void scalarAndEmptyTensors()
    {
        qs::test::ScratchDir dir;
        const float scalar = std::normal_distribution<float>(0, 1)(rng_);
        const auto file = dir / "edge.safetensors";
        qs::test::writeBytes(file, qs::test::stBuild({{"empty", "F32", {0, 4}, ""},
                                                      {"scalar", "F32", {}, qs::test::bytesOf(std::vector<float>{scalar})},
                                                      {"empty2", "BF16", {3, 0}, ""}}));
        try {
            const auto ck = qs::io::openSafetensors(file);
            QCOMPARE(ck->tensors().size(), std::size_t(3));
            const auto s = ck->readF32("scalar");
            QVERIFY(s.shape.empty());
            QCOMPARE(s.data.size(), std::size_t(1));
            QCOMPARE(s.data[0], scalar);
            QCOMPARE(ck->readF32("empty").data.size(), std::size_t(0));
            QCOMPARE(ck->readF32("empty2").shape, (qs::Shape{3, 0}));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void folderLayouts()
    {
        const auto gen = everyDtype();
        try {
            // A folder holding model.safetensors (and a stray file that must be ignored).
            qs::test::ScratchDir single;
            qs::test::writeBytes(single / "model.safetensors", qs::test::stBuild({gen[0].tensor, gen[1].tensor}));
            qs::test::writeBytes(single / "notes.txt", "not a tensor file");
            auto ck = qs::io::openSafetensors(single.path());
            QCOMPARE(ck->path(), single.path());
            QCOMPARE(ck->tensors().size(), std::size_t(2));
            checkTensor(*ck, gen[1]);

            // Several *.safetensors and no index: all of them, file by file.
            qs::test::ScratchDir several;
            qs::test::writeBytes(several / "b.safetensors", qs::test::stBuild({gen[2].tensor, gen[3].tensor}));
            qs::test::writeBytes(several / "a.safetensors", qs::test::stBuild({gen[4].tensor}));
            ck = qs::io::openSafetensors(several.path());
            QCOMPARE(ck->tensors().size(), std::size_t(3));
            QCOMPARE(ck->tensors()[0].name, gen[4].tensor.name); // a.safetensors first
            QCOMPARE(fs::path(ck->tensors()[0].file).filename().string(), std::string("a.safetensors"));
            for (int i : {2, 3, 4})
                checkTensor(*ck, gen[i]);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void shardedFolder()
    {
        const auto gen = everyDtype();
        qs::test::ScratchDir dir;
        // Three shards, tensors spread round-robin, and an index naming each one's shard.
        std::vector<std::vector<StTensor>> shards(3);
        nlohmann::json weightMap = nlohmann::json::object();
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < gen.size(); ++i) {
            shards[i % 3].push_back(gen[i].tensor);
            weightMap[gen[i].tensor.name] = "model-0000" + std::to_string(i % 3 + 1) + "-of-00003.safetensors";
            total += gen[i].tensor.bytes.size();
        }
        for (int s = 0; s < 3; ++s)
            qs::test::writeBytes(dir / ("model-0000" + std::to_string(s + 1) + "-of-00003.safetensors"),
                                 qs::test::stBuild(shards[s]));
        const nlohmann::json index{{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
        qs::test::writeBytes(dir / "model.safetensors.index.json", index.dump(2));
        // A leftover consolidated file must not be read when an index is present.
        qs::test::writeBytes(dir / "model.safetensors", "garbage");
        try {
            const auto ck = qs::io::openSafetensors(dir.path());
            QCOMPARE(ck->tensors().size(), gen.size());
            QCOMPARE(ck->totalBytes(), total);
            QCOMPARE(ck->metadata().at("total_size"), std::to_string(total));
            for (const auto& g : gen) {
                const auto* info = ck->find(g.tensor.name);
                QVERIFY(info);
                QCOMPARE(fs::path(info->file).filename().string(), weightMap[g.tensor.name].get<std::string>());
                checkTensor(*ck, g);
            }
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void notFound()
    {
        qs::test::ScratchDir dir;
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::io::openSafetensors(dir / "nope.safetensors"));
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::io::openSafetensors(dir.path())); // empty folder
    }
};

} // namespace

QTEST_APPLESS_MAIN(SafetensorsReadTest)
#include "test_safetensors_read.moc"
