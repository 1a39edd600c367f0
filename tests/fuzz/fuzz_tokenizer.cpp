// libFuzzer target: the input is a tokenizer.json. If it parses into a consistent spec, the
// tokenizer encodes and decodes a fixed multilingual string. Only qs::Error may escape the
// library; anything else (a crash, a sanitizer report, another exception) is a finding.
#include "core/io/tokenizer.hpp"
#include "core/util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::string kText =
        "Hello, world! It's 2024: 1234567 \n\n  tabs\tand\r\nlines <s> </s> <unk> <|begin_of_text|> "
        "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xE2\x96\x81x \xFF\xFE invalid";
    try {
        const std::string json(reinterpret_cast<const char*>(data), size);
        qs::io::Tokenizer tok(qs::io::Tokenizer::parseHfJson(json, "fuzz/tokenizer.json"));
        const auto ids = tok.encode(kText, true);
        (void)tok.decode(ids);
        (void)tok.decode(ids, true);
        (void)tok.decode({-1, 0, 1, 2, 3, static_cast<std::int32_t>(tok.vocabSize())});
        (void)tok.tokenId("<s>");
    } catch (const qs::Error&) {
        // malformed or unsupported input: the expected outcome for most inputs
    }
    return 0;
}
