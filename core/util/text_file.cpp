#include "core/util/text_file.hpp"

#include "core/util/error.hpp"

#include <fstream>
#include <sstream>

namespace qs {

std::string readTextFile(const std::filesystem::path& path, const std::string& what)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw io::NotFoundError(path.string() + ": cannot open " + what);
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad())
        throw io::FormatError(path.string(), "read failed");
    return ss.str();
}

} // namespace qs
