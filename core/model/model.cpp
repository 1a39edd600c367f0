#include "core/model/model.hpp"

#include "core/io/gguf.hpp"
#include "core/io/model_locator.hpp"
#include "core/io/safetensors.hpp"
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"

#include <spdlog/spdlog.h>

namespace qs::model {

namespace fs = std::filesystem;

static void loadHfTokenizer(Model& m, const fs::path& folder)
{
    const auto tokJson = folder / "tokenizer.json";
    if (!fs::exists(tokJson))
        return;
    const auto tokConfig = folder / "tokenizer_config.json";
    try {
        m.tokenizer = std::make_shared<io::Tokenizer>(io::Tokenizer::fromHfFiles(
            tokJson, fs::exists(tokConfig) ? std::optional<fs::path>(tokConfig) : std::nullopt));
    } catch (const std::exception& e) {
        // A broken tokenizer must not stop inspection of the weights.
        m.tokenizerError = e.what();
        spdlog::warn("tokenizer not loaded: {}", e.what());
    }
}

Model openModel(const std::string& spec)
{
    Model m;
    m.source = io::resolveModelPath(spec);
    const fs::path& p = m.source;

    if (fs::is_regular_file(p) && p.extension() == ".gguf") {
        auto g = std::make_unique<io::GgufCheckpoint>(p);
        m.spec = g->archSpec();
        if (g->hasTokenizer()) {
            try {
                m.tokenizer = std::make_shared<io::Tokenizer>(g->tokenizerSpec());
            } catch (const std::exception& e) {
                m.tokenizerError = e.what();
                spdlog::warn("tokenizer not loaded: {}", e.what());
            }
        }
        m.checkpoint = std::move(g);
        return m;
    }

    const fs::path folder = fs::is_directory(p) ? p : p.parent_path();
    m.checkpoint = io::openSafetensors(p);
    const auto config = folder / "config.json";
    if (fs::exists(config)) {
        m.spec = parseHfConfig(config);
    } else {
        m.spec.supported = false;
        m.spec.unsupportedReason = "no config.json beside the weights: raw tensors only";
    }
    loadHfTokenizer(m, folder);
    return m;
}

} // namespace qs::model
