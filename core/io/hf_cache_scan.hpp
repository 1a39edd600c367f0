#pragma once
// A listing of the Hugging Face hub cache for a browser: every snapshot of every model repo,
// with its size on disk and what it holds. The layout is the hub's:
//   <cache>/models--org--name/{blobs/<sha>, refs/main, snapshots/<revision>/<file> -> blobs}
// Reads directory entries and file sizes only, never file contents (refs/main excepted).
#include "core/jobs/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qs::io {

struct HfCacheSnapshot {
    std::string repoId;              // "org/name"
    std::string revision;            // the snapshot folder's name (a commit hash)
    std::filesystem::path path;      // <cache>/models--org--name/snapshots/<revision>
    bool isMain = false;             // refs/main names this revision
    std::uint64_t bytes = 0;         // sizes of the files the snapshot holds (links followed)
    int files = 0;
    int brokenLinks = 0;             // links to missing blobs: an interrupted download
    bool hasConfig = false;          // config.json
    bool hasSafetensors = false;     // *.safetensors (or an index)
    std::vector<std::string> ggufFiles; // *.gguf, relative to path
    std::filesystem::file_time_type modified{};

    // What QuantScope can open: a config.json with safetensors weights, or a GGUF file.
    bool openable() const { return (hasConfig && hasSafetensors) || !ggufFiles.empty(); }
};

// Every snapshot under cacheDir (datasets and spaces are skipped), sorted by repo id, then the
// newest first. A missing or unreadable cache gives an empty list. progress, when given,
// reports per repo and throws jobs::Cancelled when cancelled.
std::vector<HfCacheSnapshot> scanHuggingFaceCache(const std::filesystem::path& cacheDir,
                                                  jobs::Progress* progress = nullptr);

} // namespace qs::io
