#include "core/io/safetensors.hpp"

#include "core/io/mapped_file.hpp"
#include "core/io/safetensors_header.hpp"
#include "core/io/safetensors_index.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <algorithm>
#include <unordered_map>

namespace qs::io {

namespace fs = std::filesystem;

namespace {

class SafetensorsCheckpoint : public Checkpoint {
public:
    explicit SafetensorsCheckpoint(fs::path opened) : path_(std::move(opened)) {}

    std::string format() const override { return "safetensors"; }
    const fs::path& path() const override { return path_; }
    const std::vector<TensorInfo>& tensors() const override { return tensors_; }
    std::map<std::string, std::string> metadata() const override { return metadata_; }

    // Maps one file and appends its tensors; a name already seen in another file is an error.
    void addFile(const fs::path& file)
    {
        auto mapped = std::make_unique<MappedFile>(file);
        SafetensorsHeader header = parseSafetensorsHeader(mapped->bytes(), mapped->name());
        const std::size_t fileIndex = files_.size();
        for (auto& t : header.tensors) {
            const auto [it, inserted] = byName_.try_emplace(t.name, Location{fileIndex, tensors_.size()});
            if (!inserted)
                throw FormatError(mapped->name(), "tensor '" + t.name + "' is also stored in " +
                                                      tensors_[it->second.tensor].file);
            tensors_.push_back(std::move(t));
        }
        for (auto& [k, v] : header.metadata)
            metadata_.emplace(k, std::move(v));
        files_.push_back(std::move(mapped));
    }

    void addMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    const TensorInfo* lookup(const std::string& name) const
    {
        const auto it = byName_.find(name);
        return it == byName_.end() ? nullptr : &tensors_[it->second.tensor];
    }

    Tensor readF32(const std::string& name) const override
    {
        const auto it = byName_.find(name);
        if (it == byName_.end())
            throw NotFoundError(path_.string() + ": no tensor named '" + name + "'");
        const TensorInfo& info = tensors_[it->second.tensor];
        const MappedFile& file = *files_[it->second.file];
        const auto dtype = dtypeFromName(info.dtype);
        // Re-checked here although the header parser validated it: the mapping is what we
        // are about to touch, so its bounds are what must hold.
        if (!dtype || info.offset > file.size() || info.nbytes > file.size() - info.offset ||
            info.nbytes != static_cast<std::uint64_t>(info.numel()) * dtypeSize(*dtype))
            throw FormatError(info.file, info.offset, "tensor '" + name + "' lies outside its file");
        Tensor out;
        out.shape = info.shape;
        out.data.resize(static_cast<std::size_t>(info.numel()));
        convertToF32(*dtype, file.bytes().subspan(info.offset, info.nbytes), out.data);
        return out;
    }

private:
    struct Location {
        std::size_t file;
        std::size_t tensor;
    };

    fs::path path_;
    std::vector<std::unique_ptr<MappedFile>> files_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, Location> byName_;
    std::map<std::string, std::string> metadata_;
};

bool hasSafetensorsExtension(const fs::path& p) { return p.extension() == ".safetensors"; }

std::vector<fs::path> safetensorsFilesIn(const fs::path& folder)
{
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder))
        if (hasSafetensorsExtension(e.path()) && e.is_regular_file())
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// The index to use in a folder: model.safetensors.index.json, else the only
// *.safetensors.index.json there; empty when there is none.
fs::path findIndex(const fs::path& folder)
{
    const auto preferred = folder / "model.safetensors.index.json";
    if (fs::exists(preferred))
        return preferred;
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(folder)) {
        const auto name = e.path().filename().string();
        if (name.size() > 23 && name.ends_with(".safetensors.index.json"))
            found.push_back(e.path());
    }
    return found.size() == 1 ? found.front() : fs::path{};
}

std::unique_ptr<Checkpoint> openSharded(const fs::path& folder, const fs::path& indexPath)
{
    const SafetensorsIndex index = readSafetensorsIndex(indexPath);
    auto ckpt = std::make_unique<SafetensorsCheckpoint>(folder);
    for (const auto& shard : index.shards) {
        const auto shardPath = folder / shard;
        if (!fs::is_regular_file(shardPath))
            throw FormatError(indexPath.string(), "weight_map names shard '" + shard + "', which is missing from " +
                                                      folder.string());
        ckpt->addFile(shardPath);
    }
    for (const auto& [name, shard] : index.weightMap) {
        const TensorInfo* t = ckpt->lookup(name);
        if (!t || fs::path(t->file).filename() != shard)
            throw FormatError(indexPath.string(), "weight_map puts tensor '" + name + "' in shard '" + shard +
                                                      "', which does not hold it");
    }
    for (const auto& [k, v] : index.metadata)
        ckpt->addMetadata(k, v);
    return ckpt;
}

} // namespace

std::unique_ptr<Checkpoint> openSafetensors(const fs::path& fileOrFolder)
{
    if (!fs::exists(fileOrFolder))
        throw NotFoundError(fileOrFolder.string() + ": no such file or folder");
    if (!fs::is_directory(fileOrFolder)) {
        auto ckpt = std::make_unique<SafetensorsCheckpoint>(fileOrFolder);
        ckpt->addFile(fileOrFolder);
        return ckpt;
    }
    const fs::path& folder = fileOrFolder;
    if (const auto index = findIndex(folder); !index.empty())
        return openSharded(folder, index);
    auto ckpt = std::make_unique<SafetensorsCheckpoint>(folder);
    if (fs::exists(folder / "model.safetensors")) {
        ckpt->addFile(folder / "model.safetensors");
        return ckpt;
    }
    const auto files = safetensorsFilesIn(folder);
    if (files.empty())
        throw NotFoundError(folder.string() + ": no .safetensors files and no model.safetensors.index.json");
    for (const auto& f : files)
        ckpt->addFile(f);
    return ckpt;
}

} // namespace qs::io
