#version 450
// Group-wise 2/3/4-bit codes in the per-row bit stream: a 32-code unit is exactly `bits` words.
// flags bit 0: asymmetric (zeros in Z), bit 1: act-order g_idx in A.
#ifdef QS_COOPMAT
#define QS_TILE_LOADER
#endif
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

#ifdef QS_COOPMAT
// 4-bit codes without g_idx: BN rows x BK / 2 bytes; per thread WPT codes: one 16-byte load (32
// codes, one group) in most layouts, one 8-byte load (16 codes) in PIPE, two 16-byte loads in
// SPLIT and WIDE. Other widths and act-order take the generic path.
const uint CPT = min(WPT, 32u);   // codes per load: 32, or 16 in PIPE
const uint UPT = WPT / CPT;       // loads per thread and step: 1, or 2 in SPLIT and WIDE (two rows)
const uint PARTS = BK / CPT;      // threads per row and step
layout(std430, binding = 2) readonly buffer W2Buf { uvec2 W2[]; };  // W 8 bytes at a time

bool tileLoaderFits() { return pc.bits == 4u && (pc.flags & 2u) == 0u; }

void fetchWTile(uint n0, uint k0, uint tid)
{
    [[unroll]] for (uint u = 0; u < UPT; ++u) {
        const uint idx = tid + LT * u;
        const uint row = idx / PARTS, c = idx % PARTS;
        wraw[u] = uvec4(0u);
        wscale[u] = 0.0;
        wzero[u] = 8.0;
        if (n0 + row < pc.rows) {
            if (CPT == 32u)
                wraw[u] = W4[(n0 + row) * (pc.K / 32u) + k0 / 32u + c];
            else
                wraw[u].xy = W2[(n0 + row) * (pc.K / 16u) + k0 / 16u + c];
            const uint gi = (n0 + row) * (pc.K / pc.groupSize) + (k0 + CPT * c) / pc.groupSize;
            wscale[u] = S[gi];
            if ((pc.flags & 1u) != 0u)
                wzero[u] = Z[gi];
        }
    }
}

// Specialization constant 4 (W_PAIRS), for integer zeros in 0..15 with X converted once in
// to_half.comp's pair order (x0, x4), (x1, x5), (x2, x6), (x3, x7): each word of 8 codes is
// dequantized in packed f16 to the same order, (w >> 4i) & 0x000F000F | 0x64006400 being the
// pair (1024 + c_i, 1024 + c_(i+4)); subtracting 1024 + z is exact, then one f16 multiply by the
// scale (in f16). A third of the f32 path's instructions; the products see K permuted the same
// way in X and W, so the sums are unchanged.
layout(constant_id = 4) const uint W_PAIRS = 0;

void storeWTile(uint tid, uint buf)
{
    if (W_PAIRS != 0u) {
        [[unroll]] for (uint u = 0; u < UPT; ++u) {
            const uint idx = tid + LT * u;
            const uint row = idx / PARTS, c = idx % PARTS;
            const f16vec2 s = f16vec2(float16_t(wscale[u]));
            const f16vec2 bias = f16vec2(float16_t(1024.0 + wzero[u]));
            [[unroll]] for (uint j = 0; j < CPT / 8u; ++j) {
                const uint w = wraw[u][j];
                uvec4 h;
                [[unroll]] for (uint i = 0; i < 4; ++i)
                    h[i] = packFloat2x16((unpackFloat2x16(((w >> (4u * i)) & 0x000F000Fu) | 0x64006400u) - bias) * s);
                Ws[buf][row * SA4 + (CPT / 8u) * c + j] = h;
            }
        }
        return;
    }
    [[unroll]] for (uint u = 0; u < UPT; ++u) {
        const uint idx = tid + LT * u;
        const uint row = idx / PARTS, c = idx % PARTS;
        const float s = wscale[u];
        const float bias = 8388608.0 + wzero[u];  // 2^23 + code - (2^23 + z) = code - z
        [[unroll]] for (uint j = 0; j < CPT / 8u; ++j) {
            const uint w = wraw[u][j];
            const vec4 a = (uintBitsToFloat((uvec4(w, w >> 4, w >> 8, w >> 12) & 15u) | 0x4B000000u) - bias) * s;
            const vec4 b = (uintBitsToFloat((uvec4(w >> 16, w >> 20, w >> 24, w >> 28) & 15u) | 0x4B000000u) - bias) * s;
            Ws[buf][row * SA4 + (CPT / 8u) * c + j] = packHalf8(a, b);
        }
    }
}
#endif
