#pragma once
// Turns what a user typed ("demo", a path, "org/name") into a path on disk.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qs::io {

// The shipped demo model folder: the source tree's resources/demo-model when running from a
// build tree, else the installed copy (<prefix>/share/quantscope/demo-model); $QS_DEMO_MODEL
// overrides. Throws NotFoundError naming the places looked at.
std::filesystem::path demoModelPath();

// The Hugging Face hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::filesystem::path huggingFaceCacheDir();

struct CachedModel {
    std::string repoId;              // "meta-llama/Llama-3.2-1B"
    std::filesystem::path snapshot;  // .../models--meta-llama--Llama-3.2-1B/snapshots/<rev>
};

// Every snapshot in the HF cache that holds a config.json or a .gguf file.
std::vector<CachedModel> listCachedModels();

// "demo" -> demoModelPath(); an existing path -> itself; "org/name" -> its newest cached
// snapshot. Throws NotFoundError with what was tried.
std::filesystem::path resolveModelPath(const std::string& spec);

// A hub cache folder name to its repo id: "models--meta-llama--Llama-3.2-1B" ->
// "meta-llama/Llama-3.2-1B", "models--gpt2" -> "gpt2"; empty when it is not a model repo.
std::string repoIdFromCacheName(const std::string& dirName);

} // namespace qs::io
