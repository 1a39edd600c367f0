#version 450
// f16 or bf16 (flags bit 0) weights, two per word.
#include "gemm_common.glsl"

void dequant32(uint n, uint u, out float w[32])
{
    const uint base = n * (pc.K / 2) + u * 16;
    const bool bf16 = (pc.flags & 1u) != 0u;
    for (uint j = 0; j < 16; ++j) {
        const uint v = W[base + j];
        if (bf16) {
            w[2 * j] = uintBitsToFloat(v << 16);
            w[2 * j + 1] = uintBitsToFloat(v & 0xFFFF0000u);
        } else {
            const vec2 h = unpackHalf2x16(v);
            w[2 * j] = h.x;
            w[2 * j + 1] = h.y;
        }
    }
}
