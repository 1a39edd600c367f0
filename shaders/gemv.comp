#version 450
// Decode GEMV, Y[M][N] = X[M][K] * dequant(W)^T for M <= 8 (one dispatch per 8 rows of X):
// LANES threads share ROWS weight rows; each thread reads 16 bytes of packed
// weights of every one of its rows per step (coalesced across the lanes, ROWS loads in flight)
// and uses the slice of X it loads for all ROWS rows (X comes from L1; reading it once per
// weight row was the bottleneck, 8x the weight bytes for int4). A subgroupAdd reduces when a
// row's lanes are exactly one subgroup, else a shared-memory tree (devices whose subgroups
// differ).
// One source, four formats: -DFMT_INT4 (group-wise 4-bit, sym/asym, no g_idx, groups of a
// multiple of 32), -DFMT_INT8 (per-channel), -DFMT_HALF (f16 or bf16), -DFMT_NF4 (NF4 with
// blocks of 64, absmax plain or double-quantized as dq_nf4.comp reads it), -DFMT_Q4K (GGUF
// Q4_K), -DFMT_W8A8 (int8 X with per-token or one scale, int8 per-channel W: w8a8Gemm's decode
// sizes). -DFMT_INT4 -DHALF_MATH: the int4 dequant and products in packed f16 (devices with
// shaderFloat16).
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_GOOGLE_include_directive : enable
#if defined(HALF_MATH)
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif

layout(constant_id = 0) const uint WG = 128;     // threads per workgroup, a multiple of LANES
layout(constant_id = 1) const uint MT = 1;       // rows of X per dispatch, 1..8
layout(constant_id = 2) const uint LANES = 32;   // threads per weight row, a power of two
layout(constant_id = 3) const uint USE_SG = 1;   // 1: subgroupAdd when gl_SubgroupSize == LANES
layout(constant_id = 4) const uint ROWS = 4;     // weight rows per group of LANES threads
layout(constant_id = 5) const uint PREFETCH = 0; // int4: load the next step before computing this one
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Params {
    uint M;        // rows of X in this dispatch
    uint N;        // total weight rows (the row stride of Y)
    uint K;
    uint rowBase;  // global index of the first weight row bound
    uint bits;
    uint groupSize;
    uint flags;    // int4: bit 0 asymmetric; half: bit 0 bf16
    uint rowBytes; // unused here (raw block formats)
    uint rows;     // weight rows bound in this dispatch
    float xScale;  // HALF_MATH: power of two that keeps the f16 sums in range (halfMathXScale)
} pc;

layout(std430, binding = 0) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 0) readonly buffer XHBuf { uvec4 XH[]; };  // X_F16 (HALF_MATH only)
layout(std430, binding = 0) readonly buffer XQBuf { uvec4 XQ[]; };  // FMT_W8A8: int8 X, 16 per uvec4
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
#define WTYPE uvec4
layout(std430, binding = 2) readonly buffer WBuf { uvec4 W[]; };
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };
layout(std430, binding = 4) readonly buffer ZBuf { float Z[]; };
#if defined(FMT_NF4)
layout(std430, binding = 5) readonly buffer ABuf { int A[]; };  // double quant: absmax codes, 1 byte each
// NF4's 16 values (QLoRA), looked up from shared memory (conflict-free: 16 words in 16 banks).
const float kNf4[16] = float[16](
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);
shared float nf4Lut[16];
#endif

shared float red[WG * MT * ROWS];

#if defined(FMT_INT4) || defined(FMT_NF4) || defined(FMT_Q4K)
const uint PER_UNIT = 32;  // weights in one 16-byte load
#elif defined(FMT_INT8) || defined(FMT_W8A8)
const uint PER_UNIT = 16;
#else
const uint PER_UNIT = 8;
#endif

#if defined(FMT_INT4) || defined(FMT_NF4) || defined(FMT_Q4K)
const uint WV = 8;  // vec4s of weights in one unit
#elif defined(FMT_INT8) || defined(FMT_W8A8)
const uint WV = 4;
#else
const uint WV = 2;
#endif

#if defined(FMT_NF4)
// The absmax of the 64-block holding weight k of row n (within the bound rows), as dq_nf4.comp.
float nf4Absmax(uint n, uint k)
{
    const uint block = (n * pc.K + k) / 64u;
    if ((pc.flags & 1u) != 0u) {
        const uint code = (uint(A[block >> 2]) >> ((block & 3u) * 8u)) & 0xFFu;
        return Z[code] * S[(pc.rowBase * (pc.K / 64u) + block) / 256u] + Z[256];
    }
    return S[block];
}
#endif

#if defined(FMT_Q4K)
#include "q4k_scales.glsl"
#endif

#if !defined(FMT_INT4) && !defined(FMT_Q4K)  // int4 and Q4_K have their own loops in main()
// Unit u (weights k = PER_UNIT*u ...) of weight row n from its codes q: w[j] . x[4j..4j+3]
// summed over j, times s, is that unit's share of one output.
void dequant(uint n, uint u, WTYPE q, out vec4 w[WV], out float s)
{
#if defined(FMT_NF4)
    s = nf4Absmax(n, u * 32u);  // a unit is half a block
    for (uint j = 0; j < 4; ++j) {  // weight 8j + i in nibble i of word j
        const uint v = q[j];
        w[2 * j] = vec4(nf4Lut[v & 15u], nf4Lut[(v >> 4) & 15u], nf4Lut[(v >> 8) & 15u], nf4Lut[(v >> 12) & 15u]);
        w[2 * j + 1] = vec4(nf4Lut[(v >> 16) & 15u], nf4Lut[(v >> 20) & 15u], nf4Lut[(v >> 24) & 15u], nf4Lut[v >> 28]);
    }
#elif defined(FMT_INT8) || defined(FMT_W8A8)
    s = 1.0;  // the row scale is applied once at the end
    // Signed bytes to floats without int->float conversions (quarter rate on NVIDIA): flipping
    // the sign bit gives b + 128 in 0..255, and (bits(2^23) | c) - 2^23 - 128 = b exactly.
    for (uint j = 0; j < 4; ++j) {
        const uint v = q[j] ^ 0x80808080u;
        w[j] = uintBitsToFloat((uvec4(v, v >> 8, v >> 16, v >> 24) & 0xFFu) | 0x4B000000u) - 8388736.0;
    }
#else
    s = 1.0;
    if ((pc.flags & 1u) != 0u) {
        for (uint j = 0; j < 2; ++j)
            w[j] = vec4(uintBitsToFloat(q[2 * j] << 16), uintBitsToFloat(q[2 * j] & 0xFFFF0000u),
                        uintBitsToFloat(q[2 * j + 1] << 16), uintBitsToFloat(q[2 * j + 1] & 0xFFFF0000u));
    } else {
        for (uint j = 0; j < 2; ++j)
            w[j] = vec4(unpackHalf2x16(q[2 * j]), unpackHalf2x16(q[2 * j + 1]));
    }
#endif
}
#endif

// What a row's sum is multiplied by at the end: int8's per-channel scale; the packed-f16 int4
// kernel's 1 / xScale (a power of two: exact).
float rowScaleOf(uint n)
{
#if defined(FMT_INT8) || defined(FMT_W8A8)
    return S[n];
#elif defined(HALF_MATH)
    return 1.0 / pc.xScale;
#else
    return 1.0;
#endif
}

// What row i of X's sums are multiplied by at the end: W8A8's activation scale (per token, or
// one for all with flags bit 0), else 1.
float xScaleOf(uint i)
{
#if defined(FMT_W8A8)
    return (pc.flags & 1u) != 0u ? Z[0] : Z[i];
#else
    return 1.0;
#endif
}

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint lane = tid % LANES;
    const uint n0 = (gl_WorkGroupID.x * (WG / LANES) + tid / LANES) * ROWS;  // first of ROWS rows
    const uint mbase = gl_WorkGroupID.y * MT;
    const uint units = pc.K / PER_UNIT;
    float acc[MT * ROWS];
    for (uint i = 0; i < MT * ROWS; ++i)
        acc[i] = 0.0;
#if defined(FMT_NF4)
    for (uint i = tid; i < 16u; i += WG)
        nf4Lut[i] = kNf4[i];
    barrier();
#endif
    if (n0 < pc.rows) {
#if defined(FMT_INT4)
        // int4: per 32-bit word of codes (8 weights), 2 vec4 of X serve all ROWS rows; few live
        // registers keep more warps resident than holding 32 dequantized weights would.
        // Codes become floats without int->float conversions (quarter rate on NVIDIA):
        // 2^23 + c has c in its low mantissa bits, so (bits(2^23) | c) - (2^23 + z) = c - z.
        // biasn holds 2^23 + z; z is an integer (GPTQ/AWQ; the backend sends no other zeros here).
        const uint groupShift = uint(findLSB(pc.groupSize));  // group sizes are powers of two
        const uint groups = pc.K >> groupShift;
        const bool asym = (pc.flags & 1u) != 0u;
        // With PREFETCH the next unit's codes and scales are loaded before this unit is computed
        // (two steps of loads in flight per thread), else after it. On the H100 prefetching was
        // slower at 8 rows per thread (more live registers), so it is off by default.
        uvec4 qn[ROWS];
        float scn[ROWS], biasn[ROWS];
        for (uint r = 0; r < ROWS; ++r) {
            const bool ok = n0 + r < pc.rows && lane < units;
            qn[r] = ok ? W[(n0 + r) * units + lane] : uvec4(0u);
            const uint g = (n0 + r) * groups + ((lane * 32u) >> groupShift);
            scn[r] = ok ? S[g] : 0.0;
            biasn[r] = 8388608.0 + (ok && asym ? Z[g] : 8.0);
        }
#if defined(HALF_MATH)
        // Packed f16 (about 1.6 instructions per weight instead of 3): a code word v holds
        // nibbles c0..c7 (weight 8j + i in nibble i). (v & 0x000F000F) | 0x64006400 is the f16
        // pair (1024 + c0, 1024 + c4) (f16 has ulp 1 at 1024), the 0x00F000F0 mask gives
        // (1024 + 16 c1, 1024 + 16 c5), v >> 8 the same for c2, c6 and c3, c7. Subtracting
        // 1024 + z (or 1024 + 16 z) leaves c - z (or 16 (c - z)) exactly (the backend sends
        // only integer zeros in 0..15 here). The products sum in f16 over one unit (32 weights)
        // in two chains, nibbles of even and odd position (8 products per f16 lane each; one
        // chain of 16 measured 1.35x the error), then go into the f32 accumulator with the group
        // scale, the odd chain times 1/16. pc.xScale (a power of two, 1 where max |x| is in
        // [1, 32), else max |x| scaled into [16, 32)) keeps every partial sum below 65504:
        // 8 * 16 * 15 * 32 = 61440.
        const bool scaleX = pc.xScale != 1.0;
        for (uint u = lane; u < units; u += LANES) {
            uvec4 q[ROWS];
            float sc[ROWS];
            f16vec2 bl[ROWS], bh[ROWS];  // (1024 + z), (1024 + 16 z) in both lanes
            for (uint r = 0; r < ROWS; ++r) {
                q[r] = qn[r];
                sc[r] = scn[r];
                const float z = biasn[r] - 8388608.0;
                bl[r] = f16vec2(float16_t(1024.0 + z));
                bh[r] = f16vec2(float16_t(1024.0 + 16.0 * z));
            }
            const uint un = u + LANES;
            if (PREFETCH != 0u && un < units) {
                for (uint r = 0; r < ROWS; ++r) {
                    const bool ok = n0 + r < pc.rows;
                    qn[r] = ok ? W[(n0 + r) * units + un] : uvec4(0u);
                    const uint g = (n0 + r) * groups + ((un * 32u) >> groupShift);
                    scn[r] = ok ? S[g] : 0.0;
                    biasn[r] = 8388608.0 + (ok && asym ? Z[g] : 8.0);
                }
            }
            for (uint i = 0; i < MT; ++i) {
                if (mbase + i >= pc.M)
                    break;
                // This unit's X in f16 pairs (x[8j + p], x[8j + 4 + p]), p = 0..3, shared by
                // the ROWS rows.
                f16vec2 xh[16];
#if defined(X_F16)
                // X_F16: X arrives scaled and in these pairs (to_half.comp, PAIRS 1), 16 bytes
                // per 8 values: half the bytes of f32 X and no conversions per weight row group.
                for (uint j = 0; j < 4; ++j) {
                    const uvec4 xv = XH[(mbase + i) * (pc.K / 8u) + u * 4u + j];
                    xh[4 * j] = unpackFloat2x16(xv.x);
                    xh[4 * j + 1] = unpackFloat2x16(xv.y);
                    xh[4 * j + 2] = unpackFloat2x16(xv.z);
                    xh[4 * j + 3] = unpackFloat2x16(xv.w);
                }
#else
                for (uint j = 0; j < 4; ++j) {
                    const uint xb = (mbase + i) * (pc.K / 4) + u * 8u + 2u * j;
                    vec4 s0 = X[xb], s1 = X[xb + 1];
                    if (scaleX) {
                        s0 *= pc.xScale;
                        s1 *= pc.xScale;
                    }
                    xh[4 * j] = f16vec2(s0.x, s1.x);
                    xh[4 * j + 1] = f16vec2(s0.y, s1.y);
                    xh[4 * j + 2] = f16vec2(s0.z, s1.z);
                    xh[4 * j + 3] = f16vec2(s0.w, s1.w);
                }
#endif
                for (uint r = 0; r < ROWS; ++r) {
                    f16vec2 d0 = f16vec2(float16_t(0.0)), d1 = d0;
                    for (uint j = 0; j < 4; ++j) {
                        const uint v = q[r][j], h = v >> 8;
                        d0 = fma(unpackFloat2x16((v & 0x000F000Fu) | 0x64006400u) - bl[r], xh[4 * j], d0);
                        d1 = fma(unpackFloat2x16((v & 0x00F000F0u) | 0x64006400u) - bh[r], xh[4 * j + 1], d1);
                        d0 = fma(unpackFloat2x16((h & 0x000F000Fu) | 0x64006400u) - bl[r], xh[4 * j + 2], d0);
                        d1 = fma(unpackFloat2x16((h & 0x00F000F0u) | 0x64006400u) - bh[r], xh[4 * j + 3], d1);
                    }
                    acc[i * ROWS + r] += sc[r] * ((float(d0.x) + float(d0.y)) + 0.0625 * (float(d1.x) + float(d1.y)));
                }
            }
            if (PREFETCH == 0u && un < units) {
                for (uint r = 0; r < ROWS; ++r) {
                    const bool ok = n0 + r < pc.rows;
                    qn[r] = ok ? W[(n0 + r) * units + un] : uvec4(0u);
                    const uint g = (n0 + r) * groups + ((un * 32u) >> groupShift);
                    scn[r] = ok ? S[g] : 0.0;
                    biasn[r] = 8388608.0 + (ok && asym ? Z[g] : 8.0);
                }
            }
        }
#else
        for (uint u = lane; u < units; u += LANES) {
            uvec4 q[ROWS];
            float sc[ROWS];
            vec4 bias4[ROWS];  // 2^23 + z 16^i for nibble position i (exact: below 2^24)
            for (uint r = 0; r < ROWS; ++r) {
                q[r] = qn[r];
                sc[r] = scn[r];
                bias4[r] = 8388608.0 + (biasn[r] - 8388608.0) * vec4(1.0, 16.0, 256.0, 4096.0);
            }
            const uint un = u + LANES;
            if (PREFETCH != 0u && un < units) {
                for (uint r = 0; r < ROWS; ++r) {
                    const bool ok = n0 + r < pc.rows;
                    qn[r] = ok ? W[(n0 + r) * units + un] : uvec4(0u);
                    const uint g = (n0 + r) * groups + ((un * 32u) >> groupShift);
                    scn[r] = ok ? S[g] : 0.0;
                    biasn[r] = 8388608.0 + (ok && asym ? Z[g] : 8.0);
                }
            }
            for (uint i = 0; i < MT; ++i) {
                if (mbase + i >= pc.M)
                    break;
                // Nibble i of each half-word is masked in place, not shifted down: (bits(2^23) |
                // (c << 4i)) - (2^23 + z 16^i) = 16^i (c - z) exactly, so one shift per word
                // (v >> 16) replaces seven; lane i of d[r] collects the 16^i-scaled products and
                // is scaled back once per unit (powers of two: exact).
                vec4 d[ROWS];
                for (uint r = 0; r < ROWS; ++r)
                    d[r] = vec4(0.0);
                for (uint j = 0; j < 4; ++j) {
                    const uint xb = (mbase + i) * (pc.K / 4) + u * 8u + 2u * j;
                    const vec4 x0 = X[xb], x1 = X[xb + 1];
                    for (uint r = 0; r < ROWS; ++r) {
                        const uint v = q[r][j], h = v >> 16;
                        const uvec4 mask = uvec4(0xFu, 0xF0u, 0xF00u, 0xF000u);
                        const vec4 w0 = uintBitsToFloat((uvec4(v) & mask) | 0x4B000000u) - bias4[r];
                        const vec4 w1 = uintBitsToFloat((uvec4(h) & mask) | 0x4B000000u) - bias4[r];
                        d[r] += w0 * x0 + w1 * x1;
                    }
                }
                for (uint r = 0; r < ROWS; ++r)
                    acc[i * ROWS + r] += sc[r] * dot(d[r], vec4(1.0, 0.0625, 0.00390625, 0.000244140625));
            }
            if (PREFETCH == 0u && un < units) {
                for (uint r = 0; r < ROWS; ++r) {
                    const bool ok = n0 + r < pc.rows;
                    qn[r] = ok ? W[(n0 + r) * units + un] : uvec4(0u);
                    const uint g = (n0 + r) * groups + ((un * 32u) >> groupShift);
                    scn[r] = ok ? S[g] : 0.0;
                    biasn[r] = 8388608.0 + (ok && asym ? Z[g] : 8.0);
                }
            }
        }
#endif  // HALF_MATH
#elif defined(FMT_Q4K)
        // A unit is 16 bytes of one super-block's codes (u = 8 b + p, chunk c = p / 2, half
        // h = p % 2): 16 weights of sub-block 2c from X[256 b + 64 c + 16 h ...] (low nibbles) and
        // 16 of sub-block 2c + 1 from 32 further on (high nibbles). Each row's share is
        // d sc (q . x) - dmin mn (sum of x); the sums of x serve all ROWS rows.
        const uint rs = pc.rowBytes / 16u;  // uvec4 per row (144 bytes per super-block)
        for (uint u = lane; u < units; u += LANES) {
            const uint b = u >> 3, p = u & 7u, c = p >> 1;
            const uint k0 = 256u * b + 64u * c + 16u * (p & 1u);
            uvec4 q[ROWS];
            vec4 dm[ROWS];
            for (uint r = 0; r < ROWS; ++r) {
                const bool ok = n0 + r < pc.rows;
                q[r] = ok ? W[(n0 + r) * rs + 9u * b + 1u + p] : uvec4(0u);
                dm[r] = ok ? q4kScales(W[(n0 + r) * rs + 9u * b], c) : vec4(0.0);
            }
            for (uint i = 0; i < MT; ++i) {
                if (mbase + i >= pc.M)
                    break;
                const uint xb = ((mbase + i) * pc.K + k0) / 4u;
                vec4 xl[4], xh[4];
                for (uint t = 0; t < 4u; ++t) {
                    xl[t] = X[xb + t];
                    xh[t] = X[xb + 8u + t];
                }
                const float sl = dot((xl[0] + xl[1]) + (xl[2] + xl[3]), vec4(1.0));
                const float sh = dot((xh[0] + xh[1]) + (xh[2] + xh[3]), vec4(1.0));
                for (uint r = 0; r < ROWS; ++r) {
                    float dl = 0.0, dh = 0.0;
                    for (uint t = 0; t < 4u; ++t) {  // bytes 4t..4t+3 of the unit
                        const uint v = q[r][t];
                        const vec4 lo = uintBitsToFloat((uvec4(v, v >> 8, v >> 16, v >> 24) & 15u) | 0x4B000000u) - 8388608.0;
                        const vec4 hi = uintBitsToFloat((uvec4(v >> 4, v >> 12, v >> 20, v >> 28) & 15u) | 0x4B000000u) - 8388608.0;
                        dl += dot(lo, xl[t]);
                        dh += dot(hi, xh[t]);
                    }
                    acc[i * ROWS + r] += (dm[r].x * dl - dm[r].y * sl) + (dm[r].z * dh - dm[r].w * sh);
                }
            }
        }
#else
        for (uint u = lane; u < units; u += LANES) {
            uvec4 q[ROWS];
            for (uint r = 0; r < ROWS; ++r)
                q[r] = n0 + r < pc.rows ? W[(n0 + r) * units + u] : uvec4(0u);
            // Per row of X: its slice of X is loaded once and used for all ROWS weight rows
            // (re-dequantizing per row of X costs ALU, not memory).
            for (uint i = 0; i < MT; ++i) {
                if (mbase + i >= pc.M)
                    break;
                vec4 xv[WV];
#if defined(FMT_W8A8)
                // 16 signed bytes of X to floats as the weights are (exact). A unit's 16 products
                // sum exactly in f32 (below 2^24); a thread's sum of units is exact while below
                // 2^24 (K up to about 8192 per 32 lanes), else rounded at 2^-24 relative.
                const uvec4 xq = XQ[(mbase + i) * (pc.K / 16u) + u];
                for (uint j = 0; j < 4; ++j) {
                    const uint v = xq[j] ^ 0x80808080u;
                    xv[j] = uintBitsToFloat((uvec4(v, v >> 8, v >> 16, v >> 24) & 0xFFu) | 0x4B000000u) - 8388736.0;
                }
#else
                const uint xb = (mbase + i) * (pc.K / 4) + u * WV;
                for (uint j = 0; j < WV; ++j)
                    xv[j] = X[xb + j];
#endif
                for (uint r = 0; r < ROWS; ++r) {
                    if (n0 + r >= pc.rows)
                        break;
                    vec4 w[WV];
                    float s;
                    dequant(n0 + r, u, q[r], w, s);
                    float d = 0.0;
                    for (uint j = 0; j < WV; ++j)
                        d += dot(xv[j], w[j]);
                    acc[i * ROWS + r] += s * d;
                }
            }
        }
#endif
    }
    if (USE_SG != 0u && gl_SubgroupSize == LANES) {
        for (uint r = 0; r < ROWS; ++r) {
            const uint n = n0 + r;
            const float rowScale = n < pc.rows ? rowScaleOf(n) : 0.0;
            for (uint i = 0; i < MT; ++i) {
                const float v = subgroupAdd(acc[i * ROWS + r]);
                if (n < pc.rows && lane == 0u && mbase + i < pc.M)
                    Y[(mbase + i) * pc.N + pc.rowBase + n] = v * rowScale * xScaleOf(mbase + i);
            }
        }
    } else if (USE_SG != 0u && gl_SubgroupSize < LANES && LANES % gl_SubgroupSize == 0u) {
        // Several subgroups per row group (LANES > subgroup): each subgroup sums its lanes, one
        // barrier, and the row group's first thread adds the subgroups' sums (instead of a
        // shared-memory tree with a barrier per halving).
        const uint C = MT * ROWS;
        const uint sgs = WG / gl_SubgroupSize;  // subgroups in the workgroup
        const uint parts = LANES / gl_SubgroupSize;
        for (uint i = 0; i < C; ++i) {
            const float v = subgroupAdd(acc[i]);
            if (subgroupElect())
                red[i * sgs + gl_SubgroupID] = v;
        }
        barrier();
        if (lane == 0u)
            for (uint r = 0; r < ROWS; ++r) {
                const uint n = n0 + r;
                if (n >= pc.rows)
                    continue;
                const float rowScale = rowScaleOf(n);
                for (uint i = 0; i < MT; ++i) {
                    if (mbase + i >= pc.M)
                        continue;
                    float v = 0.0;
                    for (uint p = 0; p < parts; ++p)
                        v += red[(i * ROWS + r) * sgs + gl_SubgroupID + p];
                    Y[(mbase + i) * pc.N + pc.rowBase + n] = v * rowScale * xScaleOf(mbase + i);
                }
            }
    } else {
        const uint C = MT * ROWS;  // partial sums per thread
        for (uint i = 0; i < C; ++i)
            red[i * WG + tid] = acc[i];
        barrier();
        for (uint s = LANES / 2; s > 0u; s >>= 1) {
            if (lane < s)
                for (uint i = 0; i < C; ++i)
                    red[i * WG + tid] += red[i * WG + tid + s];
            barrier();
        }
        if (lane == 0u)
            for (uint r = 0; r < ROWS; ++r) {
                const uint n = n0 + r;
                if (n >= pc.rows)
                    continue;
                const float rowScale = rowScaleOf(n);
                for (uint i = 0; i < MT; ++i)
                    if (mbase + i < pc.M)
                        Y[(mbase + i) * pc.N + pc.rowBase + n] = red[(i * ROWS + r) * WG + tid] * rowScale * xScaleOf(mbase + i);
            }
    }
}
