#version 450
// ggml blocks read byte by byte (blocks of 18/20/34/210 bytes are not word aligned).
// Compiled once per type: -DQ8_0, -DQ4_0, -DQ4_1, -DQ4_K or -DQ6_K.
#if defined(QS_COOPMAT) && defined(Q4_K)
#define QS_TILE_LOADER
#endif
#include "gemm_common.glsl"

uint byteAt(uint off) { return (W[off >> 2] >> ((off & 3u) * 8u)) & 0xFFu; }
float halfAt(uint off) { return unpackHalf2x16(byteAt(off) | (byteAt(off + 1) << 8)).x; }
int sbyteAt(uint off) { return int(byteAt(off) << 24) >> 24; }

void dequant32(uint n, uint u, out float w[32])
{
    const uint row = n * pc.rowBytes;
#if defined(Q8_0)
    const uint base = row + u * 34;
    const float d = halfAt(base);
    for (uint j = 0; j < 32; ++j)
        w[j] = float(sbyteAt(base + 2 + j)) * d;
#elif defined(Q4_0)
    const uint base = row + u * 18;
    const float d = halfAt(base);
    for (uint j = 0; j < 16; ++j) {
        const uint b = byteAt(base + 2 + j);
        w[j] = (float(b & 15u) - 8.0) * d;
        w[j + 16] = (float(b >> 4) - 8.0) * d;
    }
#elif defined(Q4_1)
    const uint base = row + u * 20;
    const float d = halfAt(base), m = halfAt(base + 2);
    for (uint j = 0; j < 16; ++j) {
        const uint b = byteAt(base + 4 + j);
        w[j] = float(b & 15u) * d + m;
        w[j + 16] = float(b >> 4) * d + m;
    }
#elif defined(Q4_K)
    // Unit j of a 256-block: 64-chunk c = j/2, low (j even) or high nibbles, scale/min j.
    const uint base = row + (u / 8) * 144;
    const uint j = u % 8, c = j / 2;
    const bool hi = (j & 1u) != 0u;
    const float d = halfAt(base), dmin = halfAt(base + 2);
    const uint s = base + 4;
    uint sc, mn;
    if (j < 4) {
        sc = byteAt(s + j) & 63u;
        mn = byteAt(s + j + 4) & 63u;
    } else {
        sc = (byteAt(s + j + 4) & 15u) | ((byteAt(s + j - 4) >> 6) << 4);
        mn = (byteAt(s + j + 4) >> 4) | ((byteAt(s + j) >> 6) << 4);
    }
    const float d1 = d * float(sc), m1 = dmin * float(mn);
    for (uint l = 0; l < 32; ++l) {
        const uint b = byteAt(base + 16 + 32 * c + l);
        w[l] = d1 * float(hi ? (b >> 4) : (b & 15u)) - m1;
    }
#elif defined(Q6_K)
    // Unit j of a 256-block: 128-half h = j/4, quarter q = j%4.
    const uint base = row + (u / 8) * 210;
    const uint j = u % 8, h = j / 4, q = j % 4;
    const float d = halfAt(base + 208);
    for (uint l = 0; l < 32; ++l) {
        const uint qlb = byteAt(base + 64 * h + l + 32 * (q & 1u));
        const uint low = q < 2 ? (qlb & 15u) : (qlb >> 4);
        const uint high = (byteAt(base + 128 + 32 * h + l) >> (2 * q)) & 3u;
        const int sc = sbyteAt(base + 192 + 8 * h + l / 16 + 2 * q);
        w[l] = d * float(sc) * float(int(low | (high << 4)) - 32);
    }
#else
#error "define one ggml block type"
#endif
}

#if defined(QS_COOPMAT) && defined(Q4_K)
// Coalesced Q4_K tile loader (the default layout: a 64-wide step is one 32-byte chunk c of a
// super-block's codes, two threads per row): each thread reads 16 bytes of codes (16 weights of
// sub-block 2c, low nibbles, and 16 of 2c + 1, high) and the super-block's header; the store
// unpacks the two sub-blocks' scales and mins and writes 4 x 8 f16 weights.
#include "q4k_scales.glsl"
uint q4kChunk;  // c of this thread's fetched step

bool tileLoaderFits() { return WPT == 32u; }

void fetchWTile(uint n0, uint k0, uint tid)
{
    const uint row = tid / 2u, h = tid % 2u, b = k0 / 256u;
    q4kChunk = (k0 % 256u) / 64u;
    wraw[0] = uvec4(0u);
    wraw[1] = uvec4(0u);
    if (n0 + row < pc.rows) {
        const uint base = (n0 + row) * (pc.rowBytes / 16u) + 9u * b;
        wraw[0] = W4[base + 1u + 2u * q4kChunk + h];
        wraw[1] = W4[base];
    }
}

void storeWTile(uint tid, uint buf)
{
    const uint row = tid / 2u, h = tid % 2u;
    const vec4 dm = q4kScales(wraw[1], q4kChunk);  // d sc, dmin mn of sub-blocks 2c and 2c + 1
    vec4 lo[4], hi[4];
    [[unroll]] for (uint t = 0; t < 4u; ++t) {  // bytes 4t..4t+3: weights 16h + 4t .. (+32 high)
        const uint v = wraw[0][t];
        lo[t] = (uintBitsToFloat((uvec4(v, v >> 8, v >> 16, v >> 24) & 15u) | 0x4B000000u) - 8388608.0) * dm.x - dm.y;
        hi[t] = (uintBitsToFloat((uvec4(v >> 4, v >> 12, v >> 20, v >> 28) & 15u) | 0x4B000000u) - 8388608.0) * dm.z - dm.w;
    }
    [[unroll]] for (uint e = 0; e < 2u; ++e) {
        Ws[buf][row * SA4 + 2u * h + e] = packHalf8(lo[2u * e], lo[2u * e + 1u]);
        Ws[buf][row * SA4 + 4u + 2u * h + e] = packHalf8(hi[2u * e], hi[2u * e + 1u]);
    }
}
#endif
