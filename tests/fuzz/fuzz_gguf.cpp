// libFuzzer target: GGUF bytes through the header parser, then everything a caller can ask of
// a file that opened: metadata text, the architecture and tokenizer specs, and dequantization
// of every (small) tensor. A FormatError is the expected outcome for bad input; anything else
// escaping, a crash or a sanitizer report is a finding.
#include "core/io/gguf_dequant.hpp"
#include "core/io/gguf_parser.hpp"
#include "core/io/gguf_specs.hpp"
#include "core/io/gguf_types.hpp"
#include "core/util/error.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

// Unknown tokenizer.ggml.pre names log a warning; at thousands of inputs a second that is
// most of the run time.
extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace qs::io;
    const std::span<const std::uint8_t> bytes(data, size);
    GgufHeader h;
    try {
        h = parseGgufHeader(bytes, "fuzz.gguf");
    } catch (const FormatError&) {
        return 0;
    }
    for (const auto& [key, value] : h.values)
        (void)value.toString();
    try {
        (void)gguf::archSpecFrom(h.values, h.tensors, "fuzz.gguf");
    } catch (const FormatError&) {
    }
    try {
        if (h.values.count("tokenizer.ggml.model"))
            (void)gguf::tokenizerSpecFrom(h.values, "fuzz.gguf");
    } catch (const FormatError&) {
    }
    // Decode tensors as readF32 would; the parser promised each lies inside the input and is
    // sized exactly as its type says (checked here in 128-bit arithmetic, so a wrapped size
    // computation is a finding even when the tensor is too large to decode).
    constexpr std::int64_t kMaxElements = 1 << 20;
    for (std::size_t i = 0; i < h.tensors.size(); ++i) {
        const auto& info = h.tensors[i];
        const auto traits = ggmlTypeTraits(h.records[i].type);
        if (!traits || info.numel() < 0 || info.offset + info.nbytes > size ||
            static_cast<unsigned __int128>(info.numel()) * traits->blockBytes !=
                static_cast<unsigned __int128>(info.nbytes) * traits->blockSize)
            __builtin_trap();
        if (info.numel() > kMaxElements)
            continue;
        std::vector<float> out(static_cast<std::size_t>(info.numel()));
        (void)dequantizeGgml(h.records[i].type, bytes.subspan(info.offset, info.nbytes), out);
    }
    return 0;
}
