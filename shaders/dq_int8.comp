#version 450
// int8 per-channel: w = q * S[n].
#ifdef QS_COOPMAT
#define QS_TILE_LOADER
#endif
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

#ifdef QS_COOPMAT
// Signed bytes to floats without conversions: b ^ 0x80 = b + 128, and 2^23 + c - (2^23 + 128).
vec4 bytes4(uint v)
{
    v ^= 0x80808080u;
    return uintBitsToFloat((uvec4(v, v >> 8, v >> 16, v >> 24) & 0xFFu) | 0x4B000000u) - 8388736.0;
}

// BN rows x BK bytes: WPT / 16 16-byte loads per thread (2; 1 in PIPE, 4 in SPLIT and WIDE), BK / 16
// threads per row.
const uint PIECES = BK / 16u;  // 16-byte pieces per row and step
const uint INT8_LOADS = WPT / 16u;

bool tileLoaderFits() { return true; }

void fetchWTile(uint n0, uint k0, uint tid)
{
    [[unroll]] for (uint r = 0; r < INT8_LOADS; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / PIECES, c = idx % PIECES;
        wraw[r] = uvec4(0x80808080u);  // bytes of -128, scaled by 0
        wscale[r] = 0.0;
        if (n0 + row < pc.rows) {
            wraw[r] = W4[(n0 + row) * (pc.K / 16u) + k0 / 16u + c];
            wscale[r] = S[n0 + row];
        }
    }
}

void storeWTile(uint tid, uint buf)
{
    [[unroll]] for (uint r = 0; r < INT8_LOADS; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / PIECES, c = idx % PIECES;
        const uvec4 v = wraw[r];
        const float s = wscale[r];
        Ws[buf][row * SA4 + 2u * c] = packHalf8(bytes4(v.x) * s, bytes4(v.y) * s);
        Ws[buf][row * SA4 + 2u * c + 1u] = packHalf8(bytes4(v.z) * s, bytes4(v.w) * s);
    }
}
#endif
