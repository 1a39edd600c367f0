// libFuzzer target: bytes as a whole safetensors file through the header parser, then the
// f32 conversion of every tensor it accepted (what readF32 would touch). Bytes that look like
// JSON also go through the shard-index and HF config.json parsers. A qs::Error is the
// expected outcome for bad input; anything else escaping, a crash or a sanitizer report is
// a finding.
#include "core/io/safetensors_header.hpp"
#include "core/io/safetensors_index.hpp"
#include "core/model/arch_spec.hpp"
#include "core/tensor/dtype.hpp"
#include "core/util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        const auto header = qs::io::parseSafetensorsHeader(bytes, "fuzz.safetensors");
        for (const auto& t : header.tensors) {
            // The parser promised: offset + nbytes inside the file, nbytes == numel * size.
            const auto dtype = qs::dtypeFromName(t.dtype);
            if (!dtype || t.offset > size || t.nbytes > size - t.offset ||
                t.nbytes != static_cast<std::uint64_t>(t.numel()) * qs::dtypeSize(*dtype))
                __builtin_trap();
            std::vector<float> out(static_cast<std::size_t>(t.numel()));
            qs::convertToF32(*dtype, bytes.subspan(t.offset, t.nbytes), out);
        }
    } catch (const qs::Error&) {
    }
    if (size > 0 && data[0] == '{') {
        try {
            (void)qs::io::parseSafetensorsIndex(bytes, "fuzz.index.json");
        } catch (const qs::Error&) {
        }
        try {
            (void)qs::model::parseHfConfigText(std::string(bytes.begin(), bytes.end()), "fuzz.config.json");
        } catch (const qs::Error&) {
        }
    }
    return 0;
}
