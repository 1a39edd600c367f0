#version 450
// int8 per-channel: w = q * S[n].
#include "gemm_common.glsl"

void dequant32(uint n, uint u, out float w[32])
{
    const uint base = n * (pc.K / 4) + u * 8;
    const float s = S[n];
    for (uint j = 0; j < 8; ++j) {
        const int v = int(W[base + j]);
        for (uint b = 0; b < 4; ++b)
            w[4 * j + b] = float(bitfieldExtract(v, int(8 * b), 8)) * s;
    }
}
