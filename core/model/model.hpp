#pragma once
// A model as the app sees it: a checkpoint (lazy tensors), its architecture and, when
// present, its tokenizer. Opening reads headers and JSON only, never tensor data.
#include "core/io/checkpoint.hpp"
#include "core/model/arch_spec.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace qs::io {
class Tokenizer;
}

namespace qs::model {

struct Model {
    std::filesystem::path source;             // what was opened (folder or file)
    std::unique_ptr<io::Checkpoint> checkpoint;
    ArchSpec spec;
    std::shared_ptr<io::Tokenizer> tokenizer; // null when the model ships none
    std::string tokenizerError;               // why loading the tokenizer failed, if it did
};

// Opens a model from "demo", a folder (HF layout: config.json + *.safetensors or a
// model.safetensors.index.json), a .safetensors file, a .gguf file, or a Hugging Face repo id
// ("org/name") found in the local HF cache. Throws io::NotFoundError / io::FormatError.
Model openModel(const std::string& spec);

} // namespace qs::model
