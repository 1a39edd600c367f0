#version 450
// Group-wise 2/3/4-bit codes in the per-row bit stream: a 32-code unit is exactly `bits` words.
// flags bit 0: asymmetric (zeros in Z), bit 1: act-order g_idx in A.
#include "gemm_common.glsl"

void dequant32(uint n, uint u, out float w[32])
{
    const uint bits = pc.bits;
    const uint base = n * (pc.K / 32) * bits + u * bits;
    uint ww[5];
    for (uint i = 0; i < 4; ++i)
        ww[i] = i < bits ? W[base + i] : 0u;
    ww[4] = 0u;
    const uint groups = pc.K / pc.groupSize;
    const bool asym = (pc.flags & 1u) != 0u;
    const bool gidx = (pc.flags & 2u) != 0u;
    const float mid = float(1u << (bits - 1));
    const uint mask = (1u << bits) - 1u;
    uint gi = n * groups + (u * 32) / pc.groupSize;
    float s = S[gi];
    float z = asym ? Z[gi] : mid;
    for (uint j = 0; j < 32; ++j) {
        const uint bit = j * bits;
        const uint word = bit >> 5, shift = bit & 31u;
        uint v = ww[word] >> shift;
        if (shift + bits > 32u)
            v |= ww[word + 1] << (32u - shift);
        if (gidx) {
            gi = n * groups + uint(A[u * 32 + j]);
            s = S[gi];
            z = asym ? Z[gi] : mid;
        }
        w[j] = (float(v & mask) - z) * s;
    }
}
