#include "core/io/model_locator.hpp"

#include "core/util/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <pwd.h>
#include <unistd.h>

namespace qs::io {

namespace fs = std::filesystem;

namespace {

std::string envOr(const char* name, const std::string& fallback = {})
{
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

fs::path homeDir()
{
    if (auto h = envOr("HOME"); !h.empty())
        return h;
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
        return pw->pw_dir;
    return {};
}

// The folder of the running executable, so that a relocated install (an unpacked .deb, a
// copied prefix) still finds its share/ folder next to bin/.
fs::path executableDir()
{
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path{} : exe.parent_path();
}

bool isDir(const fs::path& p)
{
    std::error_code ec;
    return !p.empty() && fs::is_directory(p, ec);
}

bool holdsModel(const fs::path& snapshot)
{
    std::error_code ec;
    if (fs::exists(snapshot / "config.json", ec))
        return true;
    for (fs::directory_iterator it(snapshot, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".gguf")
            return true;
    return false;
}


std::string cacheNameFromRepoId(const std::string& repoId)
{
    std::string name = "models--" + repoId;
    if (const auto slash = name.find('/'); slash != std::string::npos)
        name.replace(slash, 1, "--");
    return name;
}

fs::file_time_type mtimeOr(const fs::path& p)
{
    std::error_code ec;
    const auto t = fs::last_write_time(p, ec);
    return ec ? fs::file_time_type::min() : t;
}

// The revision refs/main names, when the cache has one: what `from_pretrained` would load.
std::string mainRevision(const fs::path& repoDir)
{
    std::ifstream f(repoDir / "refs" / "main");
    std::string rev;
    std::getline(f, rev);
    return rev;
}

bool looksLikeRepoId(const std::string& s)
{
    const auto slash = s.find('/');
    return slash != std::string::npos && slash > 0 && slash + 1 < s.size() &&
           s.find('/', slash + 1) == std::string::npos && s.find("..") == std::string::npos && s.front() != '.';
}

} // namespace

fs::path demoModelPath()
{
    if (const auto overridden = envOr("QS_DEMO_MODEL"); !overridden.empty()) {
        if (isDir(overridden))
            return overridden;
        throw NotFoundError("demo model: QS_DEMO_MODEL is set to " + overridden + ", which is not a folder");
    }
    // An installed (or unpacked) copy beside the executable wins, so an install never reads the
    // source tree it was built from; a build tree has no such copy and uses the source tree.
    std::vector<fs::path> candidates;
    if (const auto exeDir = executableDir(); !exeDir.empty())
        candidates.push_back((exeDir / ".." / "share" / "quantscope" / "demo-model").lexically_normal());
    candidates.push_back(fs::path(QS_SOURCE_RESOURCES_DIR) / "demo-model");
    candidates.push_back(fs::path(QS_INSTALL_DATA_DIR) / "demo-model");
    std::string tried;
    for (const auto& c : candidates) {
        if (isDir(c))
            return c;
        tried += (tried.empty() ? "" : ", ") + c.string();
    }
    throw NotFoundError("demo model not found; looked in " + tried + " (set QS_DEMO_MODEL to override)");
}

fs::path huggingFaceCacheDir()
{
    if (auto hub = envOr("HF_HUB_CACHE"); !hub.empty())
        return hub;
    if (auto home = envOr("HF_HOME"); !home.empty())
        return fs::path(home) / "hub";
    if (auto xdg = envOr("XDG_CACHE_HOME"); !xdg.empty())
        return fs::path(xdg) / "huggingface" / "hub";
    return homeDir() / ".cache" / "huggingface" / "hub";
}

std::vector<CachedModel> listCachedModels()
{
    struct Found {
        CachedModel model;
        fs::file_time_type mtime;
    };
    std::vector<Found> found;
    const auto cache = huggingFaceCacheDir();
    std::error_code ec;
    for (fs::directory_iterator repo(cache, ec), end; !ec && repo != end; repo.increment(ec)) {
        const auto repoId = repoIdFromCacheName(repo->path().filename().string());
        if (repoId.empty())
            continue;
        std::error_code snapEc;
        for (fs::directory_iterator snap(repo->path() / "snapshots", snapEc); !snapEc && snap != end;
             snap.increment(snapEc)) {
            if (isDir(snap->path()) && holdsModel(snap->path()))
                found.push_back({{repoId, snap->path()}, mtimeOr(snap->path())});
        }
    }
    std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
        return a.mtime != b.mtime ? a.mtime > b.mtime : a.model.snapshot < b.model.snapshot;
    });
    std::vector<CachedModel> out;
    out.reserve(found.size());
    for (auto& f : found)
        out.push_back(std::move(f.model));
    return out;
}

fs::path resolveModelPath(const std::string& spec)
{
    if (spec.empty())
        throw NotFoundError("no model given");
    if (spec == "demo")
        return demoModelPath();
    fs::path p = spec;
    if (spec.starts_with("~/"))
        p = homeDir() / spec.substr(2);
    std::error_code ec;
    if (fs::exists(p, ec))
        return p;
    const auto cache = huggingFaceCacheDir();
    if (looksLikeRepoId(spec)) {
        const auto repoDir = cache / cacheNameFromRepoId(spec);
        if (const auto rev = mainRevision(repoDir); !rev.empty() && rev.find('/') == std::string::npos && rev.find("..") == std::string::npos) {
            const auto snap = repoDir / "snapshots" / rev;
            if (isDir(snap) && holdsModel(snap))
                return snap;
        }
        for (const auto& m : listCachedModels()) // newest first
            if (m.repoId == spec)
                return m.snapshot;
    }
    throw NotFoundError(spec + ": no such file or folder" +
                        (looksLikeRepoId(spec) ? ", and no snapshot of it in the Hugging Face cache " + cache.string()
                                               : std::string()));
}

std::string repoIdFromCacheName(const std::string& dirName)
{
    const std::string prefix = "models--";
    if (!dirName.starts_with(prefix) || dirName.size() == prefix.size())
        return {};
    std::string id = dirName.substr(prefix.size());
    if (const auto sep = id.find("--"); sep != std::string::npos)
        id.replace(sep, 2, "/");
    return id;
}

} // namespace qs::io
