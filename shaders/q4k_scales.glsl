// Q4_K super-block of 256 weights, 144 bytes = 9 uvec4: d and dmin (f16), 12 bytes of 6-bit
// sub-block scales and mins, then 128 bytes of codes: byte l of 32-byte chunk c holds weight
// 64c + l (low nibble, sub-block 2c) and 64c + 32 + l (high nibble, sub-block 2c + 1).
// (d sc, dmin mn) of sub-blocks 2c and 2c + 1 from the header uvec4 (ggml's get_scale_min_k4).
// Shared by gemv.comp (FMT_Q4K) and dq_gguf.comp's tile loader.
vec4 q4kScales(uvec4 hd, uint c)
{
    uint s[12];
    for (uint i = 0; i < 12u; ++i)
        s[i] = (hd[(4u + i) >> 2] >> (8u * ((4u + i) & 3u))) & 0xFFu;
    const vec2 dd = unpackHalf2x16(hd.x);  // d, dmin
    vec4 r;
    for (uint e = 0; e < 2u; ++e) {
        const uint j = 2u * c + e;
        uint sc, mn;
        if (j < 4u) {
            sc = s[j] & 63u;
            mn = s[j + 4u] & 63u;
        } else {
            sc = (s[j + 4u] & 15u) | ((s[j - 4u] >> 6) << 4);
            mn = (s[j + 4u] >> 4) | ((s[j] >> 6) << 4);
        }
        r[2u * e] = dd.x * float(sc);
        r[2u * e + 1u] = dd.y * float(mn);
    }
    return r;
}
