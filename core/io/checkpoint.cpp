#include "core/io/checkpoint.hpp"

namespace qs::io {

const TensorInfo* Checkpoint::find(const std::string& name) const
{
    for (const auto& t : tensors())
        if (t.name == name)
            return &t;
    return nullptr;
}

std::uint64_t Checkpoint::totalBytes() const
{
    std::uint64_t n = 0;
    for (const auto& t : tensors())
        n += t.nbytes;
    return n;
}

std::int64_t Checkpoint::totalParameters() const
{
    std::int64_t n = 0;
    for (const auto& t : tensors())
        n += t.numel();
    return n;
}

} // namespace qs::io
