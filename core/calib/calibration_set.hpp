#pragma once
// A calibration set: N samples of L tokens cut from a text with a seed. Defaults as in the
// GPTQ/AWQ papers (128 x 2048, L capped by the model's context) with smaller presets.
#include <cstdint>
#include <string>
#include <vector>

namespace qs::io {
class Tokenizer;
}

namespace qs::calib {

struct CalibrationPreset {
    const char* name;
    int samples;
    int length;
};
// "paper" 128x2048, "standard" 64x512, "quick" 16x256, "tiny" 4x64.
const std::vector<CalibrationPreset>& calibrationPresets();
const CalibrationPreset& calibrationPreset(const std::string& name); // throws qs::Error

struct CalibrationSet {
    int length = 0;
    std::vector<std::vector<std::int32_t>> samples; // each exactly `length` tokens
};

// Random windows (uniform start offsets, seeded) of `length` tokens from the token stream;
// length is capped by maxContext (> 0). Throws qs::Error when the text is too short.
CalibrationSet sampleWindows(const std::vector<std::int32_t>& tokens, int samples, int length, std::uint64_t seed,
                             int maxContext = 0);

// Reads and tokenizes a text file, then samples windows. Throws io::NotFoundError / qs::Error.
CalibrationSet calibrationSetFromFile(const std::string& textFile, const io::Tokenizer& tokenizer, int samples,
                                      int length, std::uint64_t seed, int maxContext = 0);

} // namespace qs::calib
