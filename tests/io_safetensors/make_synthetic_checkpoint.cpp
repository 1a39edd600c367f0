// make_synthetic_checkpoint OUT_DIR [--layers N] [--shards N]
// Writes a sparse, Llama-3-8B-shaped, 4-shard safetensors checkpoint (config.json, index,
// shards holding only headers) for timing `quantscope-cli inspect` without 16 GB of data.
#include "synthetic_checkpoint.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fprintf(stderr, "usage: %s OUT_DIR [--layers N] [--shards N]\n"
                             "Writes a sparse Llama-3-8B-sized sharded safetensors checkpoint into OUT_DIR.\n",
                     argv[0]);
        return 2;
    }
    qs::test::SyntheticLlama spec;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        const long v = std::strtol(argv[i + 1], nullptr, 10);
        if (v <= 0 || v > 1000) {
            std::fprintf(stderr, "%s: %s needs a number from 1 to 1000\n", argv[0], opt.c_str());
            return 2;
        }
        if (opt == "--layers")
            spec.layers = v;
        else if (opt == "--shards")
            spec.shards = static_cast<int>(v);
        else {
            std::fprintf(stderr, "%s: unknown option %s\n", argv[0], opt.c_str());
            return 2;
        }
    }
    try {
        const auto tensors = qs::test::writeSyntheticLlamaCheckpoint(argv[1], spec);
        std::printf("wrote %zu tensors in %d shards to %s\n", tensors.size(), spec.shards, argv[1]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
    return 0;
}
