#include "core/io/hf_cache_scan.hpp"

#include "core/io/model_locator.hpp"

#include <algorithm>
#include <fstream>

namespace qs::io {

namespace fs = std::filesystem;

namespace {

std::string readRef(const fs::path& file)
{
    std::ifstream f(file);
    std::string rev;
    std::getline(f, rev);
    while (!rev.empty() && (rev.back() == '\r' || rev.back() == ' '))
        rev.pop_back();
    return rev;
}

void scanSnapshot(HfCacheSnapshot& s)
{
    std::error_code ec;
    s.modified = fs::last_write_time(s.path, ec);
    fs::recursive_directory_iterator it(s.path, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        std::error_code fileEc;
        const fs::file_status st = it->status(fileEc); // follows the link to the blob
        if (it->is_symlink(fileEc) && !fs::exists(st)) {
            ++s.brokenLinks;
            continue;
        }
        if (!fs::is_regular_file(st))
            continue;
        ++s.files;
        const auto size = fs::file_size(it->path(), fileEc);
        if (!fileEc)
            s.bytes += size;
        const std::string name = it->path().filename().string();
        if (it.depth() == 0 && name == "config.json")
            s.hasConfig = true;
        else if (name.ends_with(".safetensors") || name.ends_with(".safetensors.index.json"))
            s.hasSafetensors = true;
        else if (name.ends_with(".gguf"))
            s.ggufFiles.push_back(fs::relative(it->path(), s.path, fileEc).string());
    }
    std::sort(s.ggufFiles.begin(), s.ggufFiles.end());
}

} // namespace

std::vector<HfCacheSnapshot> scanHuggingFaceCache(const fs::path& cacheDir, jobs::Progress* progress)
{
    std::vector<fs::path> repos;
    std::error_code ec;
    for (fs::directory_iterator it(cacheDir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code dirEc;
        if (it->is_directory(dirEc) && !repoIdFromCacheName(it->path().filename().string()).empty())
            repos.push_back(it->path());
    }
    std::sort(repos.begin(), repos.end());
    if (progress)
        progress->beginStage("scanning the Hugging Face cache");
    std::vector<HfCacheSnapshot> out;
    for (std::size_t i = 0; i < repos.size(); ++i) {
        const std::string repoId = repoIdFromCacheName(repos[i].filename().string());
        const std::string mainRev = readRef(repos[i] / "refs" / "main");
        std::vector<HfCacheSnapshot> snaps;
        std::error_code snapEc;
        for (fs::directory_iterator it(repos[i] / "snapshots", snapEc), end; !snapEc && it != end; it.increment(snapEc)) {
            std::error_code dirEc;
            if (!it->is_directory(dirEc))
                continue;
            HfCacheSnapshot s;
            s.repoId = repoId;
            s.revision = it->path().filename().string();
            s.path = it->path();
            s.isMain = !mainRev.empty() && s.revision == mainRev;
            scanSnapshot(s);
            snaps.push_back(std::move(s));
        }
        std::sort(snaps.begin(), snaps.end(), [](const HfCacheSnapshot& a, const HfCacheSnapshot& b) {
            return a.modified != b.modified ? a.modified > b.modified : a.revision < b.revision;
        });
        for (auto& s : snaps)
            out.push_back(std::move(s));
        if (progress)
            progress->report(double(i + 1) / double(repos.size()));
    }
    return out;
}

} // namespace qs::io
