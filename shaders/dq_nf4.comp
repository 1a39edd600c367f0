#version 450
// NF4, blocksize 64. flags bit 0: double-quantized absmax: u8 codes in A (packed), codebook in
// Z[0..255], offset in Z[256], per-256-block scales in S (bound whole, indexed globally).
#include "gemm_common.glsl"

const float kNf4[16] = float[16](
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

void dequant32(uint n, uint u, out float w[32])
{
    const uint base = n * (pc.K / 8) + u * 4;
    const uint block = (n * pc.K + u * 32) / 64;
    float absmax;
    if ((pc.flags & 1u) != 0u) {
        const uint code = (uint(A[block >> 2]) >> ((block & 3u) * 8u)) & 0xFFu;
        const uint global = pc.rowBase * (pc.K / 64) + block;
        absmax = Z[code] * S[global / 256] + Z[256];
    } else {
        absmax = S[block];
    }
    for (uint j = 0; j < 4; ++j) {
        const uint v = W[base + j];
        for (uint b = 0; b < 8; ++b)
            w[8 * j + b] = kNf4[(v >> (4 * b)) & 15u] * absmax;
    }
}
