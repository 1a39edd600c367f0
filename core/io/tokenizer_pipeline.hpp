#pragma once
// The stages of a HF tokenizer.json pipeline that QuantScope implements, as parsed from the
// file: normalizers, pre-tokenizers, decoders and BPE model options. A TokenizerSpec built
// from GGUF metadata has no pipeline; the tokenizer then derives the usual one from its kind.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qs::io {

struct TokenizerPipeline {
    enum class PrependScheme { Always, First, Never };
    // How a Split pre-tokenizer treats the pieces its pattern matches (the "delimiters").
    enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

    struct Normalizer {
        enum class Op { Prepend, Replace, Strip, Nfc };
        Op op = Op::Replace;
        std::string pattern;  // Prepend: the text; Replace: what to find
        bool regex = false;   // Replace: pattern is a regex (else a literal string)
        std::string content;  // Replace: the replacement
        bool stripLeft = false, stripRight = false;
    };

    struct PreTokenizer {
        enum class Op { Split, ByteLevel, Metaspace, Digits };
        Op op = Op::Split;
        // Split
        std::string pattern;
        bool regex = true;
        bool invert = false;
        SplitBehavior behavior = SplitBehavior::Isolated;
        // ByteLevel
        bool addPrefixSpace = false;
        bool useRegex = true; // split with GPT-2's pattern before mapping bytes
        // Metaspace
        std::string replacement = "\xE2\x96\x81"; // U+2581
        PrependScheme prependScheme = PrependScheme::Always;
        bool split = true;
        // Digits
        bool individualDigits = false;
    };

    struct Decoder {
        enum class Op { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
        Op op = Op::ByteLevel;
        std::string pattern, content; // Replace: find/replace; Strip: content is the char
        bool regex = false;
        std::size_t start = 0, stop = 0; // Strip: how many chars to drop at each end
        std::string replacement = "\xE2\x96\x81";
        PrependScheme prependScheme = PrependScheme::Always;
    };

    std::vector<Normalizer> normalizers;
    std::vector<PreTokenizer> preTokenizers;
    bool hasDecoder = false; // without one, decode joins tokens with spaces (as HF does)
    std::vector<Decoder> decoders;

    bool ignoreMerges = false; // a word found whole in the vocab is one token
    bool fuseUnk = false;      // consecutive unknown characters become one unk token
};

} // namespace qs::io
