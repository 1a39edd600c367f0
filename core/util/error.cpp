#include "core/util/error.hpp"

namespace qs::io {

static std::string formatMessage(const std::string& file, std::optional<std::uint64_t> offset,
                                 const std::string& detail)
{
    std::string msg = file;
    if (offset)
        msg += ": at offset " + std::to_string(*offset);
    msg += ": " + detail;
    return msg;
}

FormatError::FormatError(std::string file, std::optional<std::uint64_t> offset, std::string detail)
    : Error(formatMessage(file, offset, detail)), file_(std::move(file)), offset_(offset),
      detail_(std::move(detail))
{
}

} // namespace qs::io
