#include "core/export/safe_output.hpp"

#include "core/util/error.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <string>
#include <system_error>

#include <unistd.h>

namespace qs::exporting {

namespace fs = std::filesystem;

namespace {

std::string mib(std::uint64_t bytes)
{
    return std::to_string((bytes + (1u << 19)) >> 20) + " MiB";
}

fs::path uniqueSibling(const fs::path& target, const char* tag)
{
    static std::atomic<unsigned> counter{0};
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    for (;;) {
        fs::path p = dir / ("." + target.filename().string() + tag + std::to_string(::getpid()) + "-" +
                            std::to_string(counter.fetch_add(1)));
        std::error_code ec;
        if (!fs::exists(p, ec))
            return p;
    }
}

} // namespace

std::uint64_t requiredFreeBytes(std::uint64_t bytes)
{
    return bytes + bytes / 100 + (16ull << 20);
}

TemporaryOutput::TemporaryOutput(fs::path target, OutputKind kind, std::uint64_t expectedBytes)
    : target_(std::move(target)), kind_(kind)
{
    if (target_.empty() || target_.filename().empty())
        throw Error("export: no output path given");
    const fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(target_.string() + ": the folder " + dir.string() + " does not exist");
    if (fs::is_directory(target_, ec) != (kind_ == OutputKind::Folder) && fs::exists(target_, ec))
        throw Error(target_.string() + ": exists and is " +
                    (kind_ == OutputKind::Folder ? "not a folder" : "a folder") + "; choose another path");
    const fs::space_info space = fs::space(dir, ec);
    if (ec)
        throw Error(target_.string() + ": cannot query free space in " + dir.string() + ": " + ec.message());
    if (space.available < requiredFreeBytes(expectedBytes))
        throw Error(target_.string() + ": not enough free space: the export needs about " + mib(expectedBytes) +
                    ", " + dir.string() + " has " + mib(space.available) + " free");
    temp_ = uniqueSibling(target_, ".partial-");
    if (kind_ == OutputKind::Folder) {
        if (!fs::create_directory(temp_, ec) || ec)
            throw Error(target_.string() + ": cannot create a folder in " + dir.string() + ": " +
                        (ec ? ec.message() : std::string("already exists")));
    } else if (::access(dir.c_str(), W_OK) != 0) {
        throw Error(target_.string() + ": the folder " + dir.string() + " is not writable");
    }
}

TemporaryOutput::~TemporaryOutput()
{
    if (committed_)
        return;
    std::error_code ec;
    fs::remove_all(temp_, ec);
    if (ec)
        spdlog::warn("could not remove the partial export {}: {}", temp_.string(), ec.message());
}

void TemporaryOutput::commit()
{
    std::error_code ec;
    if (kind_ == OutputKind::File || !fs::exists(target_, ec)) {
        fs::rename(temp_, target_, ec);
        if (ec)
            throw Error(target_.string() + ": cannot rename " + temp_.string() + " onto it: " + ec.message());
        committed_ = true;
        return;
    }
    // A folder cannot be renamed over a non-empty one: move the old aside, swap, then delete it.
    const fs::path old = uniqueSibling(target_, ".replaced-");
    fs::rename(target_, old, ec);
    if (ec)
        throw Error(target_.string() + ": cannot move the existing folder aside: " + ec.message());
    fs::rename(temp_, target_, ec);
    if (ec) {
        std::error_code restore;
        fs::rename(old, target_, restore);
        throw Error(target_.string() + ": cannot rename " + temp_.string() + " onto it: " + ec.message());
    }
    committed_ = true;
    fs::remove_all(old, ec);
    if (ec)
        spdlog::warn("could not remove the replaced export {}: {}", old.string(), ec.message());
}

std::uint64_t outputBytes(const fs::path& p)
{
    std::error_code ec;
    if (fs::is_regular_file(p, ec))
        return fs::file_size(p);
    std::uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file())
            total += e.file_size();
    return total;
}

std::uint64_t writeSafely(const fs::path& target, OutputKind kind, std::uint64_t expectedBytes,
                          const std::function<void(const fs::path&)>& write,
                          const std::function<void(const fs::path&)>& verify)
{
    TemporaryOutput out(target, kind, expectedBytes);
    write(out.path());
    std::error_code ec;
    if (!fs::exists(out.path(), ec))
        throw Error(target.string() + ": the writer produced no output");
    if (verify)
        verify(out.path());
    const std::uint64_t bytes = outputBytes(out.path());
    out.commit();
    return bytes;
}

} // namespace qs::exporting
