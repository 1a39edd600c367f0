#version 450
// f16 or bf16 (flags bit 0) weights, two per word.
#ifdef QS_COOPMAT
#define QS_TILE_LOADER
#endif
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

#ifdef QS_COOPMAT
vec4 bf16x4(uvec2 v)
{
    return vec4(uintBitsToFloat(v.x << 16), uintBitsToFloat(v.x & 0xFFFF0000u), uintBitsToFloat(v.y << 16),
                uintBitsToFloat(v.y & 0xFFFF0000u));
}

// BN rows x 2 BK bytes: WPT / 8 16-byte loads per thread (4; 2 in PIPE, 8 in SPLIT and WIDE), UPR threads
// per row; f16 is stored as is.
const uint HALF_LOADS = WPT / 8u;
bool tileLoaderFits() { return true; }

void fetchWTile(uint n0, uint k0, uint tid)
{
    [[unroll]] for (uint r = 0; r < HALF_LOADS; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / UPR, c = idx % UPR;
        wraw[r] = n0 + row < pc.rows ? W4[(n0 + row) * (pc.K / 8u) + k0 / 8u + c] : uvec4(0u);
    }
}

void storeWTile(uint tid, uint buf)
{
    const bool bf16 = (pc.flags & 1u) != 0u;
    [[unroll]] for (uint r = 0; r < HALF_LOADS; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / UPR, c = idx % UPR;
        const uvec4 v = wraw[r];
        Ws[buf][row * SA4 + c] = bf16 ? packHalf8(bf16x4(v.xy), bf16x4(v.zw)) : v;
    }
}
#endif
