// A fake hub cache built from the llama fixture, laid out as huggingface_hub writes it (files
// in blobs/, snapshots/<rev>/ holding relative links to them, refs/main): the core listing
// finds every snapshot with the right size and contents, skips datasets, flags a broken link
// and a snapshot without weights; the dialog lists it on a worker, filters, enables Open only
// for openable rows, and the chosen snapshot opens in the main window under its repo id.
#include "core/io/hf_cache_scan.hpp"
#include "ui/hfcache/hf_cache_dialog.hpp"
#include "ui/hfcache/hf_cache_model.hpp"
#include "ui/windows/main_window.hpp"

#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <QAbstractItemModelTester>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const fs::path kFixture = QS_SOURCE_DIR "/tests/fixtures/llama";

// Copies file into blobs/<name-as-sha> and links snapshots/<rev>/<name> to it, relatively.
void addBlobFile(const fs::path& repo, const std::string& rev, const fs::path& file, const std::string& name)
{
    const fs::path blob = repo / "blobs" / ("sha-" + name);
    fs::create_directories(blob.parent_path());
    if (!fs::exists(blob))
        fs::copy_file(file, blob);
    const fs::path link = repo / "snapshots" / rev / name;
    fs::create_directories(link.parent_path());
    fs::create_symlink(fs::path("..") / ".." / "blobs" / ("sha-" + name), link);
}

void writeText(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

struct FakeCache {
    QTemporaryDir tmp;
    fs::path root() const { return tmp.path().toStdString(); }
    std::uint64_t llamaBytes = 0;

    FakeCache()
    {
        const fs::path llama = root() / "models--org--tiny-llama";
        for (const char* f : {"config.json", "model.safetensors", "generation_config.json"}) {
            addBlobFile(llama, "1111aaaa2222bbbb", kFixture / f, f);
            llamaBytes += fs::file_size(kFixture / f);
        }
        writeText(llama / "refs" / "main", "1111aaaa2222bbbb");
        // An older revision of the same repo holding only the config (no weights yet).
        addBlobFile(llama, "0000old", kFixture / "config.json", "config.json");
        // A GGUF-only repo, and one whose download broke off (a link to a missing blob).
        writeText(root() / "models--org--tiny-gguf" / "snapshots" / "cafe" / "tiny-q4.gguf", "GGUF-bytes");
        const fs::path broken = root() / "models--org--broken" / "snapshots" / "beef";
        fs::create_directories(broken);
        fs::create_symlink("../../blobs/missing", broken / "model.safetensors");
        // Not models: ignored.
        writeText(root() / "datasets--org--text" / "snapshots" / "d1" / "data.txt", "x");
        writeText(root() / "version.txt", "1");
    }
};

const qs::io::HfCacheSnapshot* find(const std::vector<qs::io::HfCacheSnapshot>& all, const std::string& repo,
                                    const std::string& rev)
{
    for (const auto& s : all)
        if (s.repoId == repo && s.revision == rev)
            return &s;
    return nullptr;
}

} // namespace

class TestHfCache : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("QuantScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("QuantScopeHfCacheTest"));
    }

    void coreListing()
    {
        try {
            FakeCache cache;
            const auto all = qs::io::scanHuggingFaceCache(cache.root());
            QCOMPARE(int(all.size()), 4); // two llama revisions, gguf, broken; no dataset
            const auto* main = find(all, "org/tiny-llama", "1111aaaa2222bbbb");
            QVERIFY(main);
            QVERIFY(main->isMain && main->hasConfig && main->hasSafetensors && main->openable());
            QCOMPARE(main->files, 3);
            QCOMPARE(main->bytes, cache.llamaBytes);
            QCOMPARE(main->path, cache.root() / "models--org--tiny-llama" / "snapshots" / "1111aaaa2222bbbb");
            const auto* old = find(all, "org/tiny-llama", "0000old");
            QVERIFY(old && !old->isMain && old->hasConfig && !old->hasSafetensors && !old->openable());
            const auto* gguf = find(all, "org/tiny-gguf", "cafe");
            QVERIFY(gguf && gguf->openable());
            QCOMPARE(gguf->ggufFiles, std::vector<std::string>{"tiny-q4.gguf"});
            QCOMPARE(qs::ui::openPathOf(*gguf).toStdString(), (gguf->path / "tiny-q4.gguf").string());
            const auto* broken = find(all, "org/broken", "beef");
            QVERIFY(broken && broken->brokenLinks == 1 && broken->files == 0 && !broken->openable());
            QVERIFY(qs::ui::describeContents(*broken).contains(QStringLiteral("missing")));
            // Sorted by repo id.
            QCOMPARE(all.front().repoId, std::string("org/broken"));
            // A cache that does not exist is empty, not an error.
            QVERIFY(qs::io::scanHuggingFaceCache(cache.root() / "nope").empty());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void cancelledScanThrows()
    {
        FakeCache cache;
        std::atomic<bool> cancel{true};
        qs::jobs::Progress progress([](const qs::jobs::ProgressUpdate&) {}, &cancel);
        QVERIFY_THROWS_EXCEPTION(qs::jobs::Cancelled, qs::io::scanHuggingFaceCache(cache.root(), &progress));
    }

    void dialogListsAndOpens()
    {
        try {
            FakeCache cache;
            qputenv("HF_HUB_CACHE", cache.tmp.path().toLocal8Bit());
            qs::ui::MainWindow w;
            w.show();
            auto* open = w.findChild<QAction*>(QStringLiteral("actionOpenHfCache"));
            QVERIFY(open);
            open->trigger();
            auto* dialog = w.findChild<qs::ui::HfCacheDialog*>();
            QVERIFY(dialog);
            QCOMPARE(dialog->cacheDir(), cache.tmp.path());
            QTRY_VERIFY_WITH_TIMEOUT(!dialog->isScanning(), 10000);
            QAbstractItemModelTester tester(dialog->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
            QCOMPARE(dialog->model()->rowCount(), 4);
            QTableView* view = dialog->view();
            QCOMPARE(view->model()->rowCount(), 4);
            QTest::keyClicks(dialog->filterEdit(), QStringLiteral("TINY-L"));
            QCOMPARE(view->model()->rowCount(), 2);

            // The old revision (no weights) cannot be opened; the main one can.
            int mainRow = -1, oldRow = -1;
            for (int r = 0; r < 2; ++r) {
                const QString rev = view->model()->index(r, qs::ui::HfCacheModel::RevisionColumn).data().toString();
                (rev.contains(QStringLiteral("main")) ? mainRow : oldRow) = r;
            }
            QVERIFY(mainRow >= 0 && oldRow >= 0);
            view->setCurrentIndex(view->model()->index(oldRow, 0));
            QVERIFY(!dialog->openButton()->isEnabled());
            view->setCurrentIndex(view->model()->index(mainRow, 0));
            QVERIFY(dialog->openButton()->isEnabled());
            QCOMPARE(view->model()->index(mainRow, qs::ui::HfCacheModel::SizeColumn).data(qs::ui::HfCacheModel::SortRole)
                         .toULongLong(),
                     qulonglong(cache.llamaBytes));

            QSignalSpy opened(&w, &qs::ui::MainWindow::modelOpened);
            QTest::mouseClick(dialog->openButton(), Qt::LeftButton);
            QVERIFY(opened.wait(10000));
            QVERIFY(w.currentModel());
            QVERIFY(w.windowTitle().startsWith(QStringLiteral("org/tiny-llama")));
            QVERIFY(w.currentModel()->spec.supported);
            qunsetenv("HF_HUB_CACHE");
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }
};

QTEST_MAIN(TestHfCache)
#include "test_hf_cache.moc"
