// The foundation's "opening never reads tensor data" check: a sparse, Llama-3-8B-sized,
// 4-shard checkpoint (16 GB declared, a few hundred KB on disk) opened through openModel.
// Asserts correctness only; the open time is printed (it is a figure for docs, not a gate).
#include "common/test_support.hpp"
#include "core/model/model.hpp"
#include "synthetic_checkpoint.hpp"

#include <QtTest/QtTest>

#include <chrono>
#include <set>
#include <sys/stat.h>

namespace fs = std::filesystem;

class Synthetic8bTest : public QObject {
    Q_OBJECT

private slots:
    void opensAllTensorsWithoutReadingData()
    {
        qs::test::ScratchDir dir;
        const auto folder = dir / "llama3-8b-synthetic";
        std::vector<qs::test::SyntheticTensor> expected;
        try {
            expected = qs::test::writeSyntheticLlamaCheckpoint(folder);
        } catch (const std::exception& e) {
            QSKIP(qPrintable(QString("cannot write the sparse checkpoint here: ") + e.what()));
        }
        QCOMPARE(expected.size(), std::size_t(291));
        std::set<std::string> shards;
        for (const auto& t : expected)
            shards.insert(t.shard);
        QCOMPARE(shards.size(), std::size_t(4));

        try {
            const auto t0 = std::chrono::steady_clock::now();
            const auto model = qs::model::openModel(folder.string());
            const auto t1 = std::chrono::steady_clock::now();
            qInfo("openModel on a 4-shard 8B checkpoint: %.2f ms",
                  std::chrono::duration<double, std::milli>(t1 - t0).count());

            const auto& ck = *model.checkpoint;
            QCOMPARE(ck.tensors().size(), std::size_t(291));
            for (const auto& e : expected) {
                const auto* info = ck.find(e.name);
                QVERIFY2(info, e.name.c_str());
                QCOMPARE(info->shape, e.shape);
                QCOMPARE(info->dtype, std::string("BF16"));
                QCOMPARE(fs::path(info->file).filename().string(), e.shard);
            }
            QCOMPARE(ck.totalParameters(), std::int64_t(8030261248)); // Meta-Llama-3-8B
            QCOMPARE(ck.totalBytes(), std::uint64_t(8030261248) * 2);
            QVERIFY(model.spec.supported);
            QCOMPARE(model.spec.numLayers, std::int64_t(32));
            QCOMPARE(model.spec.numKvHeads, std::int64_t(8));

            // The shards are holes: what opening touched cannot have been tensor data.
            std::uint64_t allocated = 0;
            for (const auto& s : shards) {
                struct stat st {};
                QVERIFY(::stat((folder / s).c_str(), &st) == 0);
                allocated += static_cast<std::uint64_t>(st.st_blocks) * 512;
            }
            qInfo("declared %.2f GB, allocated on disk %.1f KB", ck.totalBytes() / 1e9, allocated / 1e3);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_APPLESS_MAIN(Synthetic8bTest)
#include "test_synthetic_8b.moc"
