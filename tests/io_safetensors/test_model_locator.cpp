// Finding models: a fake Hugging Face cache under a scratch dir (HF_HOME / HF_HUB_CACHE set
// by the test), the demo model override, and the errors for what cannot be found.
#include "common/test_support.hpp"
#include "core/io/model_locator.hpp"
#include "core/util/error.hpp"

#include <QtTest/QtTest>

#include <chrono>
#include <cstdlib>

namespace fs = std::filesystem;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name)
    {
        if (const char* old = std::getenv(name))
            old_ = old;
        set(value);
    }
    ~ScopedEnv() { set(old_); }

private:
    void set(const std::optional<std::string>& v)
    {
        if (v)
            ::setenv(name_, v->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    const char* name_;
    std::optional<std::string> old_;
};

void touch(const fs::path& p, const std::string& content = "{}")
{
    qs::test::writeFile(p, content);
}

void setAge(const fs::path& p, std::chrono::hours age)
{
    fs::last_write_time(p, fs::file_time_type::clock::now() - age);
}

class ModelLocatorTest : public QObject {
    Q_OBJECT

private slots:
    void cacheDirFromEnvironment()
    {
        ScopedEnv hub("HF_HUB_CACHE", std::nullopt);
        {
            ScopedEnv home("HF_HOME", "/srv/hf");
            QCOMPARE(qs::io::huggingFaceCacheDir(), fs::path("/srv/hf/hub"));
            ScopedEnv hub2("HF_HUB_CACHE", "/fast/hub");
            QCOMPARE(qs::io::huggingFaceCacheDir(), fs::path("/fast/hub")); // HF_HUB_CACHE wins
        }
        ScopedEnv home("HF_HOME", std::nullopt);
        ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
        ScopedEnv userHome("HOME", "/home/someone");
        QCOMPARE(qs::io::huggingFaceCacheDir(), fs::path("/home/someone/.cache/huggingface/hub"));
    }

    void listsAndResolvesCachedModels()
    {
        qs::test::ScratchDir dir;
        ScopedEnv hubEnv("HF_HUB_CACHE", std::nullopt);
        ScopedEnv homeEnv("HF_HOME", dir.path().string());
        const fs::path hub = dir / "hub";

        const auto llama = hub / "models--meta-llama--Llama-3.2-1B" / "snapshots";
        touch(llama / "aaa111" / "config.json");
        touch(llama / "bbb222" / "config.json");
        touch(hub / "models--someone--tiny-gguf" / "snapshots" / "ccc333" / "model-Q4_K_M.gguf", "GGUF");
        touch(hub / "models--gpt2" / "snapshots" / "ddd444" / "config.json"); // no org
        touch(hub / "models--org--no-model" / "snapshots" / "eee555" / "README.md", "hi"); // not a model
        touch(hub / "datasets--org--data" / "snapshots" / "fff666" / "config.json"); // not a model repo
        touch(hub / "version.txt", "1");
        setAge(llama / "aaa111", std::chrono::hours(48));
        setAge(llama / "bbb222", std::chrono::hours(24));
        setAge(hub / "models--someone--tiny-gguf" / "snapshots" / "ccc333", std::chrono::hours(1));
        setAge(hub / "models--gpt2" / "snapshots" / "ddd444", std::chrono::hours(72));

        try {
            const auto models = qs::io::listCachedModels();
            QCOMPARE(models.size(), std::size_t(4));
            // Newest first.
            QCOMPARE(models[0].repoId, std::string("someone/tiny-gguf"));
            QCOMPARE(models[1].repoId, std::string("meta-llama/Llama-3.2-1B"));
            QCOMPARE(models[1].snapshot, llama / "bbb222");
            QCOMPARE(models[2].snapshot, llama / "aaa111");
            QCOMPARE(models[3].repoId, std::string("gpt2"));

            // A repo id resolves to its newest snapshot...
            QCOMPARE(qs::io::resolveModelPath("meta-llama/Llama-3.2-1B"), llama / "bbb222");
            // ...unless refs/main names one, which is what transformers would load.
            touch(hub / "models--meta-llama--Llama-3.2-1B" / "refs" / "main", "aaa111");
            QCOMPARE(qs::io::resolveModelPath("meta-llama/Llama-3.2-1B"), llama / "aaa111");
            QCOMPARE(qs::io::resolveModelPath("someone/tiny-gguf"), hub / "models--someone--tiny-gguf" / "snapshots" / "ccc333");

            // An existing path is itself, even when it looks like a repo id.
            QCOMPARE(qs::io::resolveModelPath((llama / "bbb222").string()), llama / "bbb222");
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }

        try {
            qs::io::resolveModelPath("org/no-model");
            QFAIL("resolved a repo without a model");
        } catch (const qs::io::NotFoundError& e) {
            QVERIFY2(std::string(e.what()).find(hub.string()) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("org/no-model") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::io::resolveModelPath("nobody/nothing"));
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::io::resolveModelPath((dir / "missing-folder").string()));
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::io::resolveModelPath(""));
    }

    void missingCacheIsEmpty()
    {
        qs::test::ScratchDir dir;
        ScopedEnv hubEnv("HF_HUB_CACHE", (dir / "does-not-exist").string());
        QVERIFY(qs::io::listCachedModels().empty());
    }

    void demoModel()
    {
        qs::test::ScratchDir dir;
        fs::create_directories(dir / "my-demo");
        {
            ScopedEnv demo("QS_DEMO_MODEL", (dir / "my-demo").string());
            QCOMPARE(qs::io::demoModelPath(), dir / "my-demo");
            QCOMPARE(qs::io::resolveModelPath("demo"), dir / "my-demo");
        }
        {
            ScopedEnv demo("QS_DEMO_MODEL", (dir / "gone").string());
            try {
                qs::io::demoModelPath();
                QFAIL("no error for a missing QS_DEMO_MODEL");
            } catch (const qs::io::NotFoundError& e) {
                QVERIFY2(std::string(e.what()).find((dir / "gone").string()) != std::string::npos, e.what());
            }
        }
        // Without the override: the source tree's copy when it exists, else a clear error
        // listing the places looked at.
        ScopedEnv demo("QS_DEMO_MODEL", std::nullopt);
        const fs::path sourceCopy = qs::test::sourceDir() / "resources" / "demo-model";
        try {
            const auto p = qs::io::demoModelPath();
            // An installed copy beside the executable may win over the source tree's.
            QVERIFY(fs::is_directory(p));
            QCOMPARE(p.filename().string(), std::string("demo-model"));
        } catch (const qs::io::NotFoundError& e) {
            QVERIFY2(!fs::is_directory(sourceCopy), e.what());
            QVERIFY2(std::string(e.what()).find(sourceCopy.string()) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("share/quantscope/demo-model") != std::string::npos, e.what());
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(ModelLocatorTest)
#include "test_model_locator.moc"
