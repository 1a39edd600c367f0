#include "core/io/tokenizer_hf_pipeline.hpp"

#include <map>

namespace qs::io {

namespace {

constexpr int kMaxNesting = 16; // Sequence inside Sequence ...

class PipelineParser : public JsonReader {
public:
    using JsonReader::JsonReader;
    explicit PipelineParser(const JsonReader& r) : JsonReader(r) {}

    void normalizer(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": normalizers nested too deeply");
        const std::string t = type(n, path);
        P::Normalizer step;
        if (t == "Sequence") {
            const json& list = array(member(n, "normalizers", path), path + ".normalizers");
            for (std::size_t k = 0; k < list.size(); ++k)
                normalizer(list[k], path + ".normalizers[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "Prepend") {
            step.op = P::Normalizer::Op::Prepend;
            step.pattern = string(member(n, "prepend", path), path + ".prepend");
        } else if (t == "Replace") {
            step.op = P::Normalizer::Op::Replace;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            step.content = string(member(n, "content", path), path + ".content");
        } else if (t == "Strip") {
            step.op = P::Normalizer::Op::Strip;
            step.stripLeft = boolean(n, "strip_left", false, path);
            step.stripRight = boolean(n, "strip_right", false, path);
        } else if (t == "NFC") {
            step.op = P::Normalizer::Op::Nfc;
        } else {
            fail(path + ": normalizer type " + t + " not supported yet");
        }
        out.normalizers.push_back(std::move(step));
    }

    void preTokenizer(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": pre-tokenizers nested too deeply");
        const std::string t = type(n, path);
        P::PreTokenizer step;
        if (t == "Sequence") {
            const json& list = array(member(n, "pretokenizers", path), path + ".pretokenizers");
            for (std::size_t k = 0; k < list.size(); ++k)
                preTokenizer(list[k], path + ".pretokenizers[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "Split") {
            step.op = P::PreTokenizer::Op::Split;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            step.invert = boolean(n, "invert", false, path);
            static const std::map<std::string, P::SplitBehavior> behaviors = {
                {"Removed", P::SplitBehavior::Removed},
                {"Isolated", P::SplitBehavior::Isolated},
                {"MergedWithPrevious", P::SplitBehavior::MergedWithPrevious},
                {"MergedWithNext", P::SplitBehavior::MergedWithNext},
                {"Contiguous", P::SplitBehavior::Contiguous}};
            const std::string b = string(member(n, "behavior", path), path + ".behavior");
            auto it = behaviors.find(b);
            if (it == behaviors.end())
                fail(path + ".behavior: expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                            "Contiguous, found \"" + b + "\"");
            step.behavior = it->second;
        } else if (t == "ByteLevel") {
            step.op = P::PreTokenizer::Op::ByteLevel;
            step.addPrefixSpace = boolean(n, "add_prefix_space", true, path);
            step.useRegex = boolean(n, "use_regex", true, path);
        } else if (t == "Metaspace") {
            step.op = P::PreTokenizer::Op::Metaspace;
            step.replacement = replacementChar(n, path);
            step.prependScheme = prependScheme(n, path);
            step.split = boolean(n, "split", true, path);
        } else if (t == "Digits") {
            step.op = P::PreTokenizer::Op::Digits;
            step.individualDigits = boolean(n, "individual_digits", false, path);
        } else {
            fail(path + ": pre-tokenizer type " + t + " not supported yet");
        }
        out.preTokenizers.push_back(std::move(step));
    }

    void decoder(const json& n, const std::string& path, int depth, P& out) const
    {
        if (depth > kMaxNesting)
            fail(path + ": decoders nested too deeply");
        const std::string t = type(n, path);
        P::Decoder step;
        if (t == "Sequence") {
            const json& list = array(member(n, "decoders", path), path + ".decoders");
            for (std::size_t k = 0; k < list.size(); ++k)
                decoder(list[k], path + ".decoders[" + std::to_string(k) + "]", depth + 1, out);
            return;
        } else if (t == "ByteLevel") {
            step.op = P::Decoder::Op::ByteLevel;
        } else if (t == "Replace") {
            step.op = P::Decoder::Op::Replace;
            std::tie(step.pattern, step.regex) = pattern(n, path);
            if (step.regex)
                fail(path + ": a Replace decoder with a regex pattern is not supported yet");
            step.content = string(member(n, "content", path), path + ".content");
        } else if (t == "ByteFallback") {
            step.op = P::Decoder::Op::ByteFallback;
        } else if (t == "Fuse") {
            step.op = P::Decoder::Op::Fuse;
        } else if (t == "Strip") {
            step.op = P::Decoder::Op::Strip;
            step.content = string(member(n, "content", path), path + ".content");
            std::size_t i = 0;
            if (step.content.empty() || (unicode::next(step.content, i), i != step.content.size()))
                fail(path + ".content: expected exactly one character");
            step.start = static_cast<std::size_t>(integer(member(n, "start", path), 0, 1 << 20, path + ".start"));
            step.stop = static_cast<std::size_t>(integer(member(n, "stop", path), 0, 1 << 20, path + ".stop"));
        } else if (t == "Metaspace") {
            step.op = P::Decoder::Op::Metaspace;
            step.replacement = replacementChar(n, path);
            step.prependScheme = prependScheme(n, path);
        } else {
            fail(path + ": decoder type " + t + " not supported yet");
        }
        out.decoders.push_back(std::move(step));
    }

    // The special tokens a post-processor puts around a single sequence, as token names.
    void postProcessor(const json& n, const std::string& path, int depth, std::vector<std::int32_t>& before,
                       std::vector<std::int32_t>& after) const
    {
        if (depth > kMaxNesting)
            fail(path + ": post-processors nested too deeply");
        const std::string t = type(n, path);
        if (t == "Sequence") {
            const json& list = array(member(n, "processors", path), path + ".processors");
            for (std::size_t k = 0; k < list.size(); ++k)
                postProcessor(list[k], path + ".processors[" + std::to_string(k) + "]", depth + 1, before, after);
        } else if (t == "ByteLevel") {
            // only adjusts offsets
        } else if (t == "TemplateProcessing") {
            const json& single = array(member(n, "single", path), path + ".single");
            const json& specials = object(member(n, "special_tokens", path), path + ".special_tokens");
            bool seenSequence = false;
            for (std::size_t k = 0; k < single.size(); ++k) {
                const std::string ip = path + ".single[" + std::to_string(k) + "]";
                const json& item = object(single[k], ip);
                if (item.contains("Sequence")) {
                    seenSequence = true;
                    continue;
                }
                const json& sp = object(member(item, "SpecialToken", ip), ip + ".SpecialToken");
                const std::string name = string(member(sp, "id", ip + ".SpecialToken"), ip + ".SpecialToken.id");
                if (!specials.contains(name))
                    fail(ip + ": special token \"" + name + "\" is not in " + path + ".special_tokens");
                const std::string sp2 = path + ".special_tokens[\"" + name + "\"]";
                const json& ids = array(member(object(specials[name], sp2), "ids", sp2), sp2 + ".ids");
                for (std::size_t j = 0; j < ids.size(); ++j)
                    (seenSequence ? after : before)
                        .push_back(static_cast<std::int32_t>(integer(ids[j], 0, INT32_MAX, sp2 + ".ids")));
            }
        } else if (t == "BertProcessing" || t == "RobertaProcessing") {
            for (const char* key : {"cls", "sep"}) {
                const json& pair = array(member(n, key, path), path + "." + key);
                if (pair.size() != 2)
                    fail(path + "." + key + ": expected [token, id]");
                const auto id = static_cast<std::int32_t>(integer(pair[1], 0, INT32_MAX, path + "." + key + "[1]"));
                (std::string(key) == "cls" ? before : after).push_back(id);
            }
        } else {
            fail(path + ": post-processor type " + t + " not supported yet");
        }
    }

};

} // namespace

ParsedPipeline parseHfPipeline(const JsonReader& reader, const nlohmann::json& root)
{
    const PipelineParser p(reader);
    ParsedPipeline out;
    if (root.contains("normalizer") && !root["normalizer"].is_null())
        p.normalizer(root["normalizer"], "normalizer", 0, out.pipeline);
    if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null())
        p.preTokenizer(root["pre_tokenizer"], "pre_tokenizer", 0, out.pipeline);
    if (root.contains("decoder") && !root["decoder"].is_null()) {
        out.pipeline.hasDecoder = true;
        p.decoder(root["decoder"], "decoder", 0, out.pipeline);
    }
    if (root.contains("post_processor") && !root["post_processor"].is_null())
        p.postProcessor(root["post_processor"], "post_processor", 0, out.before, out.after);
    return out;
}

} // namespace qs::io
