#pragma once
// Paths and scratch space for tests. Header-only so every suite can include it.
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace qs::test {

inline std::filesystem::path sourceDir() { return QS_SOURCE_DIR; }
inline std::filesystem::path fixturesDir() { return sourceDir() / "tests" / "fixtures"; }

// ../shared/data beside the checkout; empty when absent (tests then QSKIP).
inline std::filesystem::path sharedDataFile(const std::string& name)
{
    auto p = sourceDir().parent_path() / "shared" / "data" / name;
    return std::filesystem::exists(p) ? p : std::filesystem::path{};
}

// A fresh scratch folder under the system temp dir, removed when the object dies.
class ScratchDir {
public:
    ScratchDir()
    {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("qs-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline void writeFile(const std::filesystem::path& p, const std::string& bytes)
{
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readFile(const std::filesystem::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

} // namespace qs::test
