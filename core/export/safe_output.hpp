#pragma once
// Every export goes through here so that a failed, cancelled or interrupted export never leaves
// a partial file: check free space, write to a temporary beside the target (same file system,
// so the final rename is atomic), open it again and verify it, then rename it onto the target.
#include "core/jobs/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>

namespace qs::exporting {

enum class OutputKind { File, Folder };

// A temporary file or folder beside `target` ("." + name + ".partial-<pid>-<n>"), removed by the
// destructor unless commit() succeeded.
class TemporaryOutput {
public:
    // Throws qs::Error naming the target when its folder is missing or not writable, or holds
    // less than expectedBytes (plus a small margin) of free space.
    TemporaryOutput(std::filesystem::path target, OutputKind kind, std::uint64_t expectedBytes);
    ~TemporaryOutput();
    TemporaryOutput(const TemporaryOutput&) = delete;
    TemporaryOutput& operator=(const TemporaryOutput&) = delete;

    const std::filesystem::path& path() const { return temp_; }      // write here
    const std::filesystem::path& target() const { return target_; }
    // Renames the temporary onto the target (replacing a file; a folder is swapped in and the
    // old one removed). Throws qs::Error naming both paths.
    void commit();

private:
    std::filesystem::path target_, temp_;
    OutputKind kind_;
    bool committed_ = false;
};

// Free space needed for an output of `bytes`: a 1% + 16 MiB margin for file-system overhead.
std::uint64_t requiredFreeBytes(std::uint64_t bytes);

// The whole sequence: space check, write(temp), verify(temp), rename. Anything thrown by write
// or verify (jobs::Cancelled included) removes the temporary and propagates. Returns the bytes
// written (the file's size, or the sum over the folder's files).
std::uint64_t writeSafely(const std::filesystem::path& target, OutputKind kind, std::uint64_t expectedBytes,
                          const std::function<void(const std::filesystem::path& temp)>& write,
                          const std::function<void(const std::filesystem::path& temp)>& verify);

// Size of a file, or of every regular file under a folder.
std::uint64_t outputBytes(const std::filesystem::path& p);

} // namespace qs::exporting
