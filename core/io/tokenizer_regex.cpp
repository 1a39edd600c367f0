#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/io/tokenizer_regex.hpp"

#include "core/util/error.hpp"

#include <pcre2.h>

namespace qs::io {

namespace {

std::string pcreMessage(int code)
{
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    return reinterpret_cast<const char*>(buf);
}

// Limits so that a hostile pattern (tokenizer.json is untrusted) fails instead of hanging.
constexpr std::uint32_t kMatchLimit = 5'000'000;
constexpr std::uint32_t kDepthLimit = 100'000;

struct MatchResources {
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* jitStack = nullptr;
    MatchResources()
    {
        context = pcre2_match_context_create(nullptr);
        pcre2_set_match_limit(context, kMatchLimit);
        pcre2_set_depth_limit(context, kDepthLimit);
        jitStack = pcre2_jit_stack_create(64 * 1024, 4 * 1024 * 1024, nullptr);
        if (jitStack)
            pcre2_jit_stack_assign(context, nullptr, jitStack);
    }
    ~MatchResources()
    {
        if (jitStack) pcre2_jit_stack_free(jitStack);
        pcre2_match_context_free(context);
    }
};

// One per thread: a JIT stack must not be shared by concurrent matches.
MatchResources& resources()
{
    thread_local MatchResources r;
    return r;
}

} // namespace

struct TokenizerRegex::Code {
    pcre2_code* code = nullptr;
    ~Code() { pcre2_code_free(code); }
};

TokenizerRegex::TokenizerRegex(const std::string& pattern) : pattern_(pattern), code_(std::make_unique<Code>())
{
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP, &err, &errOffset, nullptr);
    if (!code_->code)
        throw Error("split regex does not compile at pattern offset " + std::to_string(errOffset) + ": " +
                    pcreMessage(err));
    pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE); // best effort: falls back to the interpreter
}

TokenizerRegex::~TokenizerRegex() = default;
TokenizerRegex::TokenizerRegex(TokenizerRegex&&) noexcept = default;
TokenizerRegex& TokenizerRegex::operator=(TokenizerRegex&&) noexcept = default;

namespace {
struct MatchData {
    pcre2_match_data* data;
    explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
    ~MatchData() { pcre2_match_data_free(data); }
};
} // namespace

void TokenizerRegex::forEachMatch(std::string_view text,
                                  const std::function<void(std::size_t, std::size_t)>& onMatch) const
{
    MatchData md(code_->code);
    auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const int rc = pcre2_match(code_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.data,
                                   resources().context);
        if (rc == PCRE2_ERROR_NOMATCH)
            return;
        if (rc < 0)
            throw Error("split regex failed to match: " + pcreMessage(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
        const std::size_t start = ov[0], end = ov[1];
        if (end > start) {
            onMatch(start, end);
            pos = end;
        } else {
            // An empty match: step over one character so the scan always advances.
            if (start >= text.size())
                return;
            pos = start + 1;
            while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80)
                ++pos;
        }
    }
}

bool TokenizerRegex::matchesWhole(std::string_view text) const
{
    MatchData md(code_->code);
    const int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                               PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED | PCRE2_ENDANCHORED, md.data,
                               resources().context);
    return rc >= 0;
}

} // namespace qs::io
