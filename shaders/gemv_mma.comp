#version 450
// Decode GEMV for 4-bit group-wise weights (groups a multiple of 128, no g_idx) on the tensor
// cores: Y^T = dequant(W) * X^T as 16x8x16 matrix products (GL_NV_cooperative_matrix), weight
// rows in the 16-row A operand and up to 8 rows of X in the 8-column B operand. Each lane
// builds its A fragment in registers straight from one 16-byte load of codes per row and
// group (no shared memory, no int->float conversions), so the work per weight byte is a few
// bit operations; the matrix units do the multiply-adds.
//
// Fragment order. The mma.sync m16n8k16 layout that NVIDIA's implementation uses (checked at
// run time below; a mismatch writes NaN, never a silently wrong Y): lane l holds A rows l/4
// and l/4+8 at k = 2(l%4)+{0,1} and +8, B column l/4 at the same k, C rows l/4, l/4+8 at
// columns 2(l%4)+{0,1}. The k order inside a product is free as long as A and B agree, so
// lane t = l%4 of a row takes the 32 consecutive codes 32t..32t+31 of each 128-weight block
// (one uvec4): word w of it feeds products 2w and 2w+1, its nibbles paired (0,4) (2,6) for
// product 2w and (1,5) (3,7) for product 2w+1, which is how two masks pick them into f16
// pairs. gemv_xprep.comp writes X's hi/lo f16 pairs in the same order.
//
// Codes to f16: MODE 0 ORs a nibble pair into 0x6400 (1024 + c, exact) and subtracts 1032,
// giving c - 8 exactly; nibbles 1/5 and 3/7 sit 4 bits higher and come out 16x (1024 + 16c),
// so they go to a second accumulator scaled by 1/16. MODE 1 uses the nibbles as f16
// subnormals (c * 2^-24, no subtraction; needs subnormal support in the matrix units).
// Per block: y += s * (acc * unit) - s * zoff * sum(x), with zoff = z - 8 (MODE 0) or z.
// X = hi + lo (two f16 products, ~f32 accuracy; XLO = 0 keeps only hi: ~3e-4).
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_vote : enable
#extension GL_EXT_control_flow_attributes : enable

layout(constant_id = 0) const uint WARPS = 4;    // subgroups per workgroup: they split K
layout(constant_id = 1) const uint RT = 2;       // 16-row tiles per workgroup
layout(constant_id = 2) const uint PREFETCH = 1; // load the next block's codes before this one's math
layout(constant_id = 3) const uint MODE = 0;     // 0: 0x6400 magic, 1: f16 subnormals
layout(constant_id = 4) const uint XLO = 1;      // 1: X as hi + lo f16 (f32 accuracy)
layout(local_size_x = 32, local_size_y_id = 0) in;

layout(push_constant) uniform Params {
    uint M;        // rows of X in this dispatch (the pre-pass was given the same rows)
    uint N;        // total weight rows (the row stride of Y)
    uint K;
    uint rowBase;  // global index of the first weight row bound
    uint bits;
    uint groupSize;
    uint flags;    // bit 0 asymmetric
    uint rowBytes; // unused
    uint rows;     // weight rows bound in this dispatch
} pc;

layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 2) readonly buffer WBuf { uvec4 W[]; };
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };
layout(std430, binding = 4) readonly buffer ZBuf { float Z[]; };
// gemv_xprep.comp's output: per (row of X, block, t) 8 uvec4 (hi, lo of words 0..3), then the
// block sums of X as floats.
layout(std430, binding = 5) readonly buffer XhBuf { uvec4 Xh[]; };
layout(std430, binding = 5) readonly buffer XsBuf { float Xs[]; };

#define AMAT fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define BMAT fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>
#define CMAT fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>

shared float16_t probeA[256];
shared float16_t probeB[128];
shared float probeC[128];
shared float red[WARPS * RT * 4 * 32];

// True when this implementation's fragments follow the m16n8k16 order assumed above.
bool layoutMatches(uint lane, uint tid)
{
    for (uint e = tid; e < 256u; e += 32u * WARPS) {
        probeA[e] = float16_t(float(e));
        if (e < 128u) {
            probeB[e] = float16_t(float(e));
            probeC[e] = float(e);
        }
    }
    barrier();
    AMAT a;
    BMAT b;
    CMAT c;
    coopMatLoadNV(a, probeA, 0, 16, false);  // a[r][k] = 16 r + k
    coopMatLoadNV(b, probeB, 0, 8, false);   // b[k][n] = 8 k + n
    coopMatLoadNV(c, probeC, 0, 8, false);   // c[r][n] = 8 r + n
    const uint g = lane / 4u, t = lane % 4u;
    bool ok = a.length() == 8 && b.length() == 4 && c.length() == 4;
    for (uint e = 0; e < 8u && ok; ++e) {
        const uint r = g + 8u * ((e / 2u) % 2u), k = 2u * t + (e % 2u) + 8u * (e / 4u);
        ok = ok && float(a[e]) == float(16u * r + k);
    }
    for (uint e = 0; e < 4u && ok; ++e) {
        const uint k = 2u * t + (e % 2u) + 8u * (e / 2u);
        ok = ok && float(b[e]) == float(8u * k + g);
        const uint r = g + 8u * (e / 2u), n = 2u * t + (e % 2u);
        ok = ok && c[e] == float(8u * r + n);
    }
    return ok;
}

void main()
{
    const uint lane = gl_LocalInvocationID.x;
    const uint warp = gl_LocalInvocationID.y;
    const uint tid = warp * 32u + lane;
    const uint g = lane / 4u, t = lane % 4u;
    const bool ok = subgroupAll(layoutMatches(lane, tid));

    const uint n0 = gl_WorkGroupID.x * (16u * RT);  // first weight row of this workgroup
    const uint mbase = gl_WorkGroupID.y * 8u;        // first row of X
    const uint blocks = pc.K / 128u;
    const uint units = pc.K / 32u;                   // uvec4 per weight row
    const uint groups = pc.K / pc.groupSize;
    const uint blockShift = uint(findLSB(pc.groupSize / 128u));  // group sizes are powers of two
    const bool asym = (pc.flags & 1u) != 0u;
    const uint xsBase = pc.M * blocks * 32u * 4u;     // floats before the block sums
    const bool bCol = g < pc.M - mbase;               // this lane's B column is a real row of X

    // Rows of this lane: A rows g and g+8 of each tile (C rows are the same), clamped so
    // every load is in bounds; rows past pc.rows are never written.
    uint rowA[RT], rowB[RT];
    [[unroll]] for (uint r = 0; r < RT; ++r) {
        rowA[r] = min(n0 + 16u * r + g, pc.rows - 1u);
        rowB[r] = min(n0 + 16u * r + g + 8u, pc.rows - 1u);
    }
    const float unitA = MODE == 0u ? 1.0 : 16777216.0;
    const float unitB = unitA * 0.0625;
    const f16vec2 biasA = MODE == 0u ? f16vec2(float16_t(1032.0)) : f16vec2(float16_t(0.0));
    const f16vec2 biasB = MODE == 0u ? f16vec2(float16_t(1152.0)) : f16vec2(float16_t(0.0));
    const uint magic = MODE == 0u ? 0x64006400u : 0u;
    const float zoffSym = MODE == 0u ? 0.0 : 8.0;

    float y[RT][4];
    [[unroll]] for (uint r = 0; r < RT; ++r)
        [[unroll]] for (uint e = 0; e < 4u; ++e)
            y[r][e] = 0.0;

    uvec4 qa[RT], qb[RT];
    uint blk = warp;
    if (blk < blocks)
        [[unroll]] for (uint r = 0; r < RT; ++r) {
            qa[r] = W[rowA[r] * units + blk * 4u + t];
            qb[r] = W[rowB[r] * units + blk * 4u + t];
        }
    for (; blk < blocks; blk += WARPS) {
        const uint nextBlk = blk + WARPS;
        uvec4 na[RT], nb[RT];
        if (PREFETCH != 0u && nextBlk < blocks)
            [[unroll]] for (uint r = 0; r < RT; ++r) {
                na[r] = W[rowA[r] * units + nextBlk * 4u + t];
                nb[r] = W[rowB[r] * units + nextBlk * 4u + t];
            }
        // X fragments of this block (column g of B), shared by every tile.
        uvec4 xf[8];
        const uint xb = ((mbase + g) * blocks + blk) * 32u + t * 8u;
        [[unroll]] for (uint j = 0; j < 8u; ++j)
            xf[j] = (bCol && (XLO != 0u || j % 2u == 0u)) ? Xh[xb + j] : uvec4(0u);
        // Block sums of X for this lane's C columns 2t, 2t+1.
        const uint c0 = 2u * t, c1 = 2u * t + 1u;
        const float xs0 = c0 < pc.M - mbase ? Xs[xsBase + (mbase + c0) * blocks + blk] : 0.0;
        const float xs1 = c1 < pc.M - mbase ? Xs[xsBase + (mbase + c1) * blocks + blk] : 0.0;
        const uint grp = blk >> blockShift;
        [[unroll]] for (uint r = 0; r < RT; ++r) {
            CMAT accA = CMAT(0.0), accB = CMAT(0.0);
            [[unroll]] for (uint w = 0; w < 4u; ++w) {
                const uint va = qa[r][w], vb = qb[r][w];
                const uint va8 = va >> 8, vb8 = vb >> 8;
                AMAT a0, a1;
                // product 2w: nibbles (0,4) at k 2t,2t+1 and (2,6) at k 2t+8,2t+9; rows g, g+8.
                const f16vec2 p0 = unpackFloat2x16((va & 0x000F000Fu) | magic) - biasA;
                const f16vec2 p0b = unpackFloat2x16((vb & 0x000F000Fu) | magic) - biasA;
                const f16vec2 p2 = unpackFloat2x16((va8 & 0x000F000Fu) | magic) - biasA;
                const f16vec2 p2b = unpackFloat2x16((vb8 & 0x000F000Fu) | magic) - biasA;
                a0[0] = p0.x; a0[1] = p0.y; a0[2] = p0b.x; a0[3] = p0b.y;
                a0[4] = p2.x; a0[5] = p2.y; a0[6] = p2b.x; a0[7] = p2b.y;
                // product 2w+1: nibbles (1,5) and (3,7), 16x.
                const f16vec2 p1 = unpackFloat2x16((va & 0x00F000F0u) | magic) - biasB;
                const f16vec2 p1b = unpackFloat2x16((vb & 0x00F000F0u) | magic) - biasB;
                const f16vec2 p3 = unpackFloat2x16((va8 & 0x00F000F0u) | magic) - biasB;
                const f16vec2 p3b = unpackFloat2x16((vb8 & 0x00F000F0u) | magic) - biasB;
                a1[0] = p1.x; a1[1] = p1.y; a1[2] = p1b.x; a1[3] = p1b.y;
                a1[4] = p3.x; a1[5] = p3.y; a1[6] = p3b.x; a1[7] = p3b.y;
                [[unroll]] for (uint h = 0; h < 2u; ++h) {
                    if (h == 1u && XLO == 0u)
                        break;
                    const uvec4 xv = xf[2u * w + h];
                    BMAT b0, b1;
                    const f16vec2 x0 = unpackFloat2x16(xv.x), x2 = unpackFloat2x16(xv.y);
                    const f16vec2 x1 = unpackFloat2x16(xv.z), x3 = unpackFloat2x16(xv.w);
                    b0[0] = x0.x; b0[1] = x0.y; b0[2] = x2.x; b0[3] = x2.y;
                    b1[0] = x1.x; b1[1] = x1.y; b1[2] = x3.x; b1[3] = x3.y;
                    accA = coopMatMulAddNV(a0, b0, accA);
                    accB = coopMatMulAddNV(a1, b1, accB);
                }
            }
            const uint giA = rowA[r] * groups + grp, giB = rowB[r] * groups + grp;
            const float sA = S[giA], sB = S[giB];
            const float zA = asym ? Z[giA] - 8.0 + zoffSym : 8.0 - 8.0 + zoffSym;
            const float zB = asym ? Z[giB] - 8.0 + zoffSym : 8.0 - 8.0 + zoffSym;
            // C elements: 0,1 row g (cols 2t, 2t+1), 2,3 row g+8.
            y[r][0] += sA * (accA[0] * unitA + accB[0] * unitB - zA * xs0);
            y[r][1] += sA * (accA[1] * unitA + accB[1] * unitB - zA * xs1);
            y[r][2] += sB * (accA[2] * unitA + accB[2] * unitB - zB * xs0);
            y[r][3] += sB * (accA[3] * unitA + accB[3] * unitB - zB * xs1);
        }
        if (nextBlk < blocks)
            [[unroll]] for (uint r = 0; r < RT; ++r) {
                if (PREFETCH != 0u) {
                    qa[r] = na[r];
                    qb[r] = nb[r];
                } else {
                    qa[r] = W[rowA[r] * units + nextBlk * 4u + t];
                    qb[r] = W[rowB[r] * units + nextBlk * 4u + t];
                }
            }
    }
    // The subgroups of a workgroup took interleaved blocks of K: sum their partial outputs.
    [[unroll]] for (uint r = 0; r < RT; ++r)
        [[unroll]] for (uint e = 0; e < 4u; ++e)
            red[((warp * RT + r) * 4u + e) * 32u + lane] = y[r][e];
    barrier();
    if (warp == 0u) {
        const float poison = ok ? 0.0 : uintBitsToFloat(0x7FC00000u);
        [[unroll]] for (uint r = 0; r < RT; ++r)
            [[unroll]] for (uint e = 0; e < 4u; ++e) {
                float v = poison;
                for (uint w = 0; w < WARPS; ++w)
                    v += red[((w * RT + r) * 4u + e) * 32u + lane];
                const uint row = n0 + 16u * r + g + 8u * (e / 2u);
                const uint col = 2u * t + (e % 2u);
                if (row < pc.rows && col < pc.M - mbase)
                    Y[(mbase + col) * pc.N + pc.rowBase + row] = v;
            }
    }
}
