#include "core/calib/calibration_set.hpp"

#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"
#include "core/util/text_file.hpp"

#include <random>

namespace qs::calib {

const std::vector<CalibrationPreset>& calibrationPresets()
{
    static const std::vector<CalibrationPreset> presets = {
        {"paper", 128, 2048}, {"standard", 64, 512}, {"quick", 16, 256}, {"tiny", 4, 64}};
    return presets;
}

const CalibrationPreset& calibrationPreset(const std::string& name)
{
    for (const auto& p : calibrationPresets())
        if (name == p.name)
            return p;
    throw Error("unknown calibration preset '" + name + "' (paper, standard, quick, tiny)");
}

CalibrationSet sampleWindows(const std::vector<std::int32_t>& tokens, int samples, int length, std::uint64_t seed,
                             int maxContext)
{
    if (samples <= 0 || length <= 1)
        throw Error("calibration: need at least one sample of at least 2 tokens");
    if (maxContext > 0 && length > maxContext)
        length = maxContext;
    if (tokens.size() < std::size_t(length) + 1)
        throw Error("calibration: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one sample of " +
                    std::to_string(length));
    CalibrationSet set;
    set.length = length;
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> start(0, tokens.size() - std::size_t(length));
    for (int i = 0; i < samples; ++i) {
        const std::size_t s = start(rng);
        set.samples.emplace_back(tokens.begin() + std::ptrdiff_t(s), tokens.begin() + std::ptrdiff_t(s + std::size_t(length)));
    }
    return set;
}

CalibrationSet calibrationSetFromFile(const std::string& textFile, const io::Tokenizer& tokenizer, int samples,
                                      int length, std::uint64_t seed, int maxContext)
{
    return sampleWindows(tokenizer.encode(readTextFile(textFile, "calibration text")), samples, length, seed, maxContext);
}

} // namespace qs::calib
