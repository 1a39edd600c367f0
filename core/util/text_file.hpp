#pragma once
// A whole file as one string (texts to tokenize, JSON). Throws io::NotFoundError naming the
// file when it cannot be opened and io::FormatError when reading fails part way.
#include <filesystem>
#include <string>

namespace qs {

// `what` names the file's role in the message: "PATH: cannot open calibration text".
std::string readTextFile(const std::filesystem::path& path, const std::string& what = "text file");

} // namespace qs
