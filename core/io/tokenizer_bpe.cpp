#include "core/io/tokenizer_bpe.hpp"

#include "core/io/tokenizer_unicode.hpp"

#include <cstdio>
#include <queue>

namespace qs::io {

namespace {
std::uint64_t pairKey(std::int32_t a, std::int32_t b)
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}
} // namespace

BpeModel::BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
                   const std::vector<std::array<std::int32_t, 3>>& merges, BpeOptions options)
    : options_(options)
{
    vocab_.reserve(vocab.size());
    for (auto& [token, id] : vocab)
        vocab_.emplace(token, id);
    merges_.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& m = merges[rank];
        merges_.insert_or_assign(pairKey(m[0], m[1]), MergeTarget{static_cast<std::int32_t>(rank), m[2]});
    }
    const std::string meta = "\xE2\x96\x81";
    std::vector<const std::string*> tokenOf;
    for (const auto& [token, id] : vocab_) {
        if (id >= 0 && static_cast<std::size_t>(id) >= tokenOf.size())
            tokenOf.resize(static_cast<std::size_t>(id) + 1, nullptr);
        if (id >= 0)
            tokenOf[static_cast<std::size_t>(id)] = &token;
    }
    splitBeforeMetaspace_ = vocab_.count(meta) > 0;
    for (const auto& m : merges) {
        const std::string* merged = m[2] >= 0 && static_cast<std::size_t>(m[2]) < tokenOf.size() ? tokenOf[static_cast<std::size_t>(m[2])] : nullptr;
        if (!merged || merged->find(meta, 1) != std::string::npos)
            splitBeforeMetaspace_ = false;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        auto it = vocab_.find(std::string_view(name));
        byteTokens_[static_cast<std::size_t>(b)] = it == vocab_.end() ? -1 : it->second;
    }
}

std::optional<std::int32_t> BpeModel::find(std::string_view token) const
{
    auto it = vocab_.find(token);
    if (it == vocab_.end())
        return std::nullopt;
    return it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<std::int32_t>& out) const
{
    if (word.size() <= kMaxCachedWord || !splitBeforeMetaspace_) {
        tokenizeCached(word, out);
        return;
    }
    if (options_.ignoreMerges) {
        if (auto id = find(word)) {
            out.push_back(*id);
            return;
        }
    }
    static constexpr std::string_view meta = "\xE2\x96\x81";
    std::size_t start = 0;
    while (start < word.size()) {
        std::size_t next = word.find(meta, start + 1);
        if (next == std::string_view::npos)
            next = word.size();
        tokenizeCached(word.substr(start, next - start), out);
        start = next;
    }
}

void BpeModel::tokenizeCached(std::string_view word, std::vector<std::int32_t>& out) const
{
    {
        std::lock_guard lock(cacheMutex_);
        auto it = cache_.find(word);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    auto ids = tokenizeUncached(word);
    out.insert(out.end(), ids.begin(), ids.end());
    if (word.size() > kMaxCachedWord)
        return;
    std::lock_guard lock(cacheMutex_);
    if (cache_.size() >= kCacheLimit)
        cache_.clear();
    cache_.emplace(std::string(word), std::move(ids));
}

std::vector<std::int32_t> BpeModel::tokenizeUncached(std::string_view word) const
{
    if (options_.ignoreMerges) {
        if (auto id = find(word))
            return {*id};
    }

    // Symbols of a doubly linked list over a vector; a merged-away symbol gets len 0.
    struct Symbol {
        std::int32_t id;
        std::int32_t prev, next;
        std::size_t len;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    const auto add = [&](std::int32_t id, std::size_t len) {
        const auto n = static_cast<std::int32_t>(symbols.size());
        if (n > 0)
            symbols.back().next = n;
        symbols.push_back({id, n - 1, -1, len});
    };

    // Characters not in the vocab: byte tokens, else unk (fused when asked), else dropped.
    // A pending unk is flushed only before a known character, as HF does.
    std::int32_t pendingUnkLen = 0;
    bool pendingUnk = false;
    for (std::size_t i = 0; i < word.size();) {
        const std::size_t n = std::min(unicode::charLength(static_cast<unsigned char>(word[i])), word.size() - i);
        const std::string_view ch = word.substr(i, n);
        i += n;
        if (auto it = vocab_.find(ch); it != vocab_.end()) {
            if (pendingUnk) {
                add(options_.unkId, static_cast<std::size_t>(pendingUnkLen));
                pendingUnk = false;
            }
            add(it->second, n);
            continue;
        }
        if (options_.byteFallback) {
            bool all = true;
            for (char c : ch)
                all = all && byteTokens_[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                for (char c : ch)
                    add(byteTokens_[static_cast<unsigned char>(c)], 1);
                continue;
            }
        }
        if (options_.unkId >= 0) {
            if (pendingUnk && options_.fuseUnk) {
                pendingUnkLen += static_cast<std::int32_t>(n);
            } else {
                if (pendingUnk)
                    add(options_.unkId, static_cast<std::size_t>(pendingUnkLen));
                pendingUnk = true;
                pendingUnkLen = static_cast<std::int32_t>(n);
            }
        }
    }
    if (pendingUnk)
        add(options_.unkId, static_cast<std::size_t>(pendingUnkLen));

    struct Candidate {
        std::int32_t rank;
        std::int32_t pos;
        std::int32_t newId;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto lookup = [&](std::int32_t a, std::int32_t b) -> const MergeTarget* {
        auto it = merges_.find(pairKey(a, b));
        return it == merges_.end() ? nullptr : &it->second;
    };
    for (std::size_t p = 0; p + 1 < symbols.size(); ++p)
        if (const auto* m = lookup(symbols[p].id, symbols[p + 1].id))
            queue.push({m->rank, static_cast<std::int32_t>(p), m->id});

    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& cur = symbols[static_cast<std::size_t>(top.pos)];
        if (cur.len == 0 || cur.next < 0)
            continue;
        const std::int32_t rightPos = cur.next;
        const Symbol right = symbols[static_cast<std::size_t>(rightPos)];
        const auto* m = lookup(cur.id, right.id);
        if (!m || m->id != top.newId)
            continue; // stale: one side was merged since this candidate was queued
        cur.id = top.newId;
        cur.len += right.len;
        cur.next = right.next;
        symbols[static_cast<std::size_t>(rightPos)].len = 0;
        if (right.next >= 0)
            symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
        if (cur.prev >= 0)
            if (const auto* pm = lookup(symbols[static_cast<std::size_t>(cur.prev)].id, cur.id))
                queue.push({pm->rank, cur.prev, pm->id});
        if (cur.next >= 0)
            if (const auto* nm = lookup(cur.id, symbols[static_cast<std::size_t>(cur.next)].id))
                queue.push({nm->rank, top.pos, nm->id});
    }
    std::vector<std::int32_t> ids;
    for (const auto& s : symbols)
        if (s.len != 0)
            ids.push_back(s.id);
    return ids;
}

} // namespace qs::io
