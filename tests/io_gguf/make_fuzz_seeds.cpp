// Writes a few valid GGUF files (every metadata type, tokenizer arrays, tensors of each
// decodable block type) into a folder, as the seed corpus of tests/fuzz/fuzz_gguf.cpp.
// Not part of the build; compile by hand:
//   g++ -std=c++20 -I. -Itests/io_gguf -I/usr/include/eigen3 tests/io_gguf/make_fuzz_seeds.cpp -o /tmp/make_seeds
//   /tmp/make_seeds DIR
#include "gguf_test_blocks.hpp"
#include "gguf_test_writer.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

using namespace qs::test;

namespace {

void save(const std::filesystem::path& p, const std::string& bytes)
{
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: make_fuzz_seeds DIR\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    BlockMaker maker(1234);

    GgufTestWriter meta;
    meta.add("a.u8", gv::u8(7));
    meta.add("a.i8", gv::i8(-7));
    meta.add("a.u16", gv::u16(700));
    meta.add("a.i16", gv::i16(-700));
    meta.add("a.u32", gv::u32(70000));
    meta.add("a.i32", gv::i32(-70000));
    meta.add("a.u64", gv::u64(1ull << 40));
    meta.add("a.i64", gv::i64(-(1ll << 40)));
    meta.add("a.f32", gv::f32(0.5));
    meta.add("a.f64", gv::f64(-0.25));
    meta.add("a.bool", gv::boolean(true));
    meta.add("a.str", gv::str("hello"));
    meta.add("a.nested", gv::arr({gv::arr({gv::u8(1), gv::u8(2)}), gv::arr({gv::u8(3)})}));
    save(dir / "metadata.gguf", meta.build());

    GgufTestWriter llama;
    llama.version = 2;
    llama.alignment = 64;
    llama.writeAlignmentKey = true;
    llama.add("general.architecture", gv::str("llama"));
    llama.add("llama.embedding_length", gv::u32(32));
    llama.add("llama.block_count", gv::u32(1));
    llama.add("llama.feed_forward_length", gv::u32(64));
    llama.add("llama.attention.head_count", gv::u32(4));
    llama.add("llama.attention.head_count_kv", gv::u32(2));
    llama.add("llama.rope.freq_base", gv::f32(10000));
    llama.add("tokenizer.ggml.model", gv::str("llama"));
    llama.add("tokenizer.ggml.tokens", gv::strings({"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b", "ab"}));
    llama.add("tokenizer.ggml.token_type", gv::arr({gv::i32(2), gv::i32(3), gv::i32(3), gv::i32(1), gv::i32(1),
                                                    gv::i32(1), gv::i32(1)}));
    llama.add("tokenizer.ggml.scores", gv::arr({gv::f32(0), gv::f32(0), gv::f32(0), gv::f32(-1), gv::f32(-2),
                                                gv::f32(-3), gv::f32(-4)}));
    llama.add("tokenizer.ggml.bos_token_id", gv::u32(1));
    llama.addTensor("token_embd.weight", {32, 7}, BlockMaker::F16, maker.make(BlockMaker::F16, 32 * 7).bytes);
    llama.addTensor("blk.0.attn_q.weight", {32, 32}, BlockMaker::Q8_0, maker.make(BlockMaker::Q8_0, 32 * 32).bytes);
    llama.addTensor("blk.0.attn_q.bias", {32}, BlockMaker::F32, maker.make(BlockMaker::F32, 32).bytes);
    save(dir / "llama.gguf", llama.build());

    GgufTestWriter quants;
    quants.add("general.architecture", gv::str("qwen2"));
    quants.add("tokenizer.ggml.model", gv::str("gpt2"));
    quants.add("tokenizer.ggml.pre", gv::str("qwen2"));
    quants.add("tokenizer.ggml.tokens", gv::strings({"h", "e", "he", "<|x|>"}));
    quants.add("tokenizer.ggml.merges", gv::strings({"h e"}));
    quants.add("tokenizer.ggml.token_type", gv::arr({gv::i32(1), gv::i32(1), gv::i32(1), gv::i32(3)}));
    const std::uint32_t types[] = {BlockMaker::BF16, BlockMaker::Q4_0, BlockMaker::Q4_1, BlockMaker::Q5_0,
                                   BlockMaker::Q5_1, BlockMaker::Q2_K, BlockMaker::Q3_K, BlockMaker::Q4_K,
                                   BlockMaker::Q5_K, BlockMaker::Q6_K};
    int i = 0;
    for (std::uint32_t t : types) {
        const std::uint64_t n = BlockMaker::blockSize(t) == 1 ? 16 : BlockMaker::blockSize(t);
        quants.addTensor("t" + std::to_string(i++), {n}, t, maker.make(t, n).bytes);
    }
    save(dir / "quants.gguf", quants.build());
    std::cout << "wrote 3 seeds to " << dir << "\n";
    return 0;
}
