#version 450
// int8 activations x int8 per-channel weights, int32 accumulation, then the two scales.
// Portable path (default): the work split of gemm_common.glsl, one weight row per workgroup, MT
// rows of X. QS_COOPMAT: the tensor cores' int8 products (below).
#ifdef QS_COOPMAT
#extension GL_NV_cooperative_matrix : enable
#extension GL_NV_integer_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_EXT_control_flow_attributes : enable
#endif
layout(push_constant) uniform Params {
    uint M, N, K, rowBase, bits, groupSize, flags, rowBytes;  // flags bit 0: one x scale
    uint rows;  // weight rows bound in this dispatch
} pc;

layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };   // weight scales [N]
layout(std430, binding = 4) readonly buffer ZBuf { float SX[]; };  // x scales [M] or [1]

float xScale(uint m) { return (pc.flags & 1u) != 0u ? SX[0] : SX[m]; }

#ifndef QS_COOPMAT
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint MT = 4;
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer XqBuf { int Xq[]; };   // packed int8 [M][K/4]
layout(std430, binding = 2) readonly buffer WBuf { int Wq[]; };    // packed int8 [N][K/4]

shared int red[WG * MT];

int dot4(int a, int b)
{
    int s = 0;
    for (int i = 0; i < 4; ++i)
        s += bitfieldExtract(a, 8 * i, 8) * bitfieldExtract(b, 8 * i, 8);
    return s;
}

void main()
{
    const uint n = gl_WorkGroupID.x;
    const uint m0 = gl_WorkGroupID.y * MT;
    const uint tid = gl_LocalInvocationID.x;
    const uint kw = pc.K / 4;
    int acc[MT];
    for (uint i = 0; i < MT; ++i)
        acc[i] = 0;
    for (uint u = tid; u < kw / 8; u += WG) {
        int w[8];
        for (uint j = 0; j < 8; ++j)
            w[j] = Wq[n * kw + u * 8 + j];
        for (uint i = 0; i < MT; ++i)
            if (m0 + i < pc.M)
                for (uint j = 0; j < 8; ++j)
                    acc[i] += dot4(Xq[(m0 + i) * kw + u * 8 + j], w[j]);
    }
    for (uint i = 0; i < MT; ++i)
        red[i * WG + tid] = acc[i];
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (tid < s)
            for (uint i = 0; i < MT; ++i)
                red[i * WG + tid] += red[i * WG + tid + s];
        barrier();
    }
    if (tid < MT && m0 + tid < pc.M) {
        Y[(m0 + tid) * pc.N + pc.rowBase + n] = float(red[tid * WG]) * xScale(m0 + tid) * S[n];
    }
}

#else

// GL_NV_cooperative_matrix, int8 16x16x32 -> int32 (the H100 runs these at twice the f16 rate):
// a workgroup owns BM x BN of Y; per BK-byte step of K it copies the int8 tiles of X and W as
// they are into padded shared rows (the next step is fetched into registers during the
// products, as in gemm_common.glsl), and each subgroup multiplies its 64 x WN sub-tile. The
// exact int32 sums leave through shared memory times x's and w's scales.
// Default: 128 x 128 tiles, 8 subgroups of 64 x 32, 128-byte steps; QS_W8A8_BIG: 128 x 256,
// 8 subgroups of 64 x 64 (half the tile loads per product), 64-byte steps (shared memory);
// QS_W8A8_WIDE: 128 x 128, 4 subgroups of 64 x 64, 128-byte steps (two workgroups per SM).
#if defined(QS_W8A8_BIG)
const uint BN = 256, WN = 64, BK = 64, LT = 256;
layout(local_size_x = 256) in;
#elif defined(QS_W8A8_WIDE)
const uint BN = 128, WN = 64, BK = 128, LT = 128;
layout(local_size_x = 128) in;
#else
const uint BN = 128, WN = 32, BK = 128, LT = 256;
layout(local_size_x = 256) in;
#endif
const uint BM = 128, NWARP = LT / 32u;
layout(std430, binding = 0) readonly buffer Xq4Buf { uvec4 Xq4[]; };  // int8 [M][K], 16 per uvec4
layout(std430, binding = 2) readonly buffer Wq4Buf { uvec4 Wq4[]; };  // int8 [N][K]

// BK / 16 uvec4 per row plus one of padding: the rows a fragment load reads at once fall in
// different banks (80- and 144-byte rows).
const uint UPR = BK / 16u, SA4 = UPR + 1u;
shared uvec4 Xs[BM * SA4];
shared uvec4 Ws[BN * SA4];
shared int Cs[NWARP * 256];  // one 16x16 int32 tile per subgroup on the way out
const uint XPT = BM * UPR / LT, WPT = BN * UPR / LT;
uvec4 xr[XPT];
uvec4 wr[WPT];

void fetchTiles(uint m0, uint n0, uint k0, uint tid)
{
    const uint kq = pc.K / 16u;
    [[unroll]] for (uint r = 0; r < XPT; ++r) {
        const uint idx = tid + LT * r, row = idx / UPR, c = idx % UPR;
        xr[r] = m0 + row < pc.M ? Xq4[(m0 + row) * kq + k0 / 16u + c] : uvec4(0u);
    }
    [[unroll]] for (uint r = 0; r < WPT; ++r) {
        const uint idx = tid + LT * r, row = idx / UPR, c = idx % UPR;
        wr[r] = n0 + row < pc.rows ? Wq4[(n0 + row) * kq + k0 / 16u + c] : uvec4(0u);
    }
}

void storeTiles(uint tid)
{
    [[unroll]] for (uint r = 0; r < XPT; ++r) {
        const uint idx = tid + LT * r;
        Xs[idx / UPR * SA4 + idx % UPR] = xr[r];
    }
    [[unroll]] for (uint r = 0; r < WPT; ++r) {
        const uint idx = tid + LT * r;
        Ws[idx / UPR * SA4 + idx % UPR] = wr[r];
    }
}

#define I8A icoopmatNV<8, gl_ScopeSubgroup, 16, 32>
#define I8B icoopmatNV<8, gl_ScopeSubgroup, 32, 16>
#define I32C icoopmatNV<32, gl_ScopeSubgroup, 16, 16>

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint warp = tid / 32u, lane = tid % 32u;
    const uint wm = warp / (BN / WN), wn = warp % (BN / WN);
    const bool mFirst = (pc.flags & 0x40000000u) != 0u;  // row tiles of X fastest in the grid
    const uint m0 = (mFirst ? gl_WorkGroupID.x : gl_WorkGroupID.y) * BM;
    const uint n0 = (mFirst ? gl_WorkGroupID.y : gl_WorkGroupID.x) * BN;
    I32C acc[4][WN / 16];
    [[unroll]] for (uint i = 0; i < 4; ++i)
        [[unroll]] for (uint j = 0; j < WN / 16; ++j)
            acc[i][j] = I32C(0);
    fetchTiles(m0, n0, 0u, tid);
    storeTiles(tid);
    barrier();
    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        const bool more = k0 + BK < pc.K;
        if (more)
            fetchTiles(m0, n0, k0 + BK, tid);
        [[unroll]] for (uint kk = 0; kk < BK; kk += 32u) {
            I8A a[4];
            I8B b[WN / 16];
            [[unroll]] for (uint i = 0; i < 4; ++i)
                coopMatLoadNV(a[i], Xs, (wm * 64u + i * 16u) * SA4 + kk / 16u, SA4, false);
            [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                coopMatLoadNV(b[j], Ws, (wn * WN + j * 16u) * SA4 + kk / 16u, SA4, true);
            [[unroll]] for (uint i = 0; i < 4; ++i)
                [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                    acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
        }
        barrier();
        if (more)
            storeTiles(tid);
        barrier();
    }
    [[unroll]] for (uint i = 0; i < 4; ++i)
        [[unroll]] for (uint j = 0; j < WN / 16; ++j) {
            coopMatStoreNV(acc[i][j], Cs, warp * 256u, 16, false);
            memoryBarrierShared();
            subgroupBarrier();
            const uint rm = m0 + wm * 64u + i * 16u, rn = n0 + wn * WN + j * 16u;
            [[unroll]] for (uint e = lane; e < 256u; e += 32u) {
                const uint r = e / 16u, c = e % 16u;
                if (rm + r < pc.M && rn + c < pc.rows)
                    Y[(rm + r) * pc.N + pc.rowBase + rn + c] = float(Cs[warp * 256u + e]) * xScale(rm + r) * S[rn + c];
            }
            subgroupBarrier();
        }
}

#endif
