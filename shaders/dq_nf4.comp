#version 450
// NF4, blocksize 64. flags bit 0: double-quantized absmax: u8 codes in A (packed), codebook in
// Z[0..255], offset in Z[256], per-256-block scales in S (bound whole, indexed globally).
#ifdef QS_COOPMAT
#define QS_TILE_LOADER
#define QS_TILE_INIT
#endif
#include "gemm_common.glsl"

const float kNf4[16] = float[16](
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

// The absmax of the 64-block holding weight k of row n (within the bound rows).
float absmaxOf(uint n, uint k)
{
    const uint block = (n * pc.K + k) / 64;
    if ((pc.flags & 1u) != 0u) {
        const uint code = (uint(A[block >> 2]) >> ((block & 3u) * 8u)) & 0xFFu;
        const uint global = pc.rowBase * (pc.K / 64) + block;
        return Z[code] * S[global / 256] + Z[256];
    }
    return S[block];
}

void dequant32(uint n, uint u, out float w[32])
{
    const uint base = n * (pc.K / 8) + u * 4;
    const float absmax = absmaxOf(n, u * 32);
    for (uint j = 0; j < 4; ++j) {
        const uint v = W[base + j];
        for (uint b = 0; b < 8; ++b)
            w[8 * j + b] = kNf4[(v >> (4 * b)) & 15u] * absmax;
    }
}

#ifdef QS_COOPMAT
// Coalesced tile loader: each thread reads 32 codes (16 bytes, half a 64-block) of a row per
// step (two per step in SPLIT and WIDE) and its block's absmax; the store looks every byte of
// codes up in a shared table of f16 pairs (nf4[low nibble], nf4[high nibble]) and scales the
// pair in f16 (~3e-4 normalized, as the f16 rounding the tiles get anyway).
const uint CPT = 32u, UPT = WPT / CPT, PARTS = BK / CPT;
shared uint nf4Pairs[256];

void tileLoaderInit(uint tid)
{
    for (uint b = tid; b < 256u; b += LT)
        nf4Pairs[b] = packFloat2x16(f16vec2(float16_t(kNf4[b & 15u]), float16_t(kNf4[b >> 4])));
}

bool tileLoaderFits() { return true; }

void fetchWTile(uint n0, uint k0, uint tid)
{
    [[unroll]] for (uint u = 0; u < UPT; ++u) {
        const uint idx = tid + LT * u;
        const uint row = idx / PARTS, c = idx % PARTS;
        wraw[u] = uvec4(0u);
        wscale[u] = 0.0;
        if (n0 + row < pc.rows) {
            wraw[u] = W4[(n0 + row) * (pc.K / 32u) + k0 / 32u + c];
            wscale[u] = absmaxOf(n0 + row, k0 + CPT * c);
        }
    }
}

void storeWTile(uint tid, uint buf)
{
    [[unroll]] for (uint u = 0; u < UPT; ++u) {
        const uint idx = tid + LT * u;
        const uint row = idx / PARTS, c = idx % PARTS;
        const f16vec2 s = f16vec2(float16_t(wscale[u]));
        [[unroll]] for (uint j = 0; j < 4u; ++j) {
            const uint w = wraw[u][j];
            uvec4 h;
            [[unroll]] for (uint b = 0; b < 4u; ++b)
                h[b] = packFloat2x16(unpackFloat2x16(nf4Pairs[(w >> (8u * b)) & 0xFFu]) * s);
            Ws[buf][row * SA4 + 4u * c + j] = h;
        }
    }
}
#endif
