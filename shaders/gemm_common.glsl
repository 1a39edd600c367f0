// Shared by every dequant-GEMM shader: bindings, push constants and the main loop.
// The including shader defines dequant32(n, u, w): weights k = 32u .. 32u+31 of row n (within
// the bound row chunk).
//
// Portable path (default): a workgroup owns one weight row n and MT rows of X; each thread walks
// 32-element units of K and the workgroup reduces through shared memory (no assumption on the
// subgroup size, so lavapipe's 8 and NVIDIA's 32 both work).
//
// QS_COOPMAT (GL_NV_cooperative_matrix, f16 x f16 -> f32, subgroups of 32): a workgroup of 8
// subgroups owns a 128 x 128 tile of Y; per 64-wide step of K it converts X to f16 and
// dequantizes W to f16 into shared memory, then each subgroup multiplies a 64 x 32 sub-tile with
// 16x16x16 matrix products. Tiles are staged through shared memory on the way out, so any M
// and N work. A shader that defines QS_TILE_LOADER supplies loadWTile, a coalesced loader for
// its common layouts; otherwise each thread dequantizes one 32-weight unit (dequant32).
#extension GL_GOOGLE_include_directive : enable
#ifdef QS_COOPMAT
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_EXT_control_flow_attributes : enable
#endif

layout(constant_id = 0) const uint WG = 128;  // threads per workgroup, a power of two
layout(constant_id = 1) const uint MT = 4;    // rows of X per workgroup
#ifndef QS_COOPMAT
layout(local_size_x_id = 0) in;
#endif

layout(push_constant) uniform Params {
    uint M;        // rows of X in this dispatch
    uint N;        // total weight rows (the row stride of Y)
    uint K;
    uint rowBase;  // global index of the first weight row bound
    uint bits;
    uint groupSize;
    uint flags;    // format-specific switches
    uint rowBytes; // bytes per weight row (raw block formats)
    uint rows;     // weight rows bound in this dispatch
} pc;

layout(std430, binding = 0) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 2) readonly buffer WBuf { uint W[]; };
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };
layout(std430, binding = 4) readonly buffer ZBuf { float Z[]; };
layout(std430, binding = 5) readonly buffer ABuf { int A[]; };

void dequant32(uint n, uint u, out float w[32]);

#ifndef QS_COOPMAT

shared float red[WG * MT];

void main()
{
    const uint n = gl_WorkGroupID.x;
    const uint m0 = gl_WorkGroupID.y * MT;
    const uint tid = gl_LocalInvocationID.x;
    const uint kv = pc.K / 4;
    float acc[MT];
    for (uint i = 0; i < MT; ++i)
        acc[i] = 0.0;
    for (uint u = tid; u < pc.K / 32; u += WG) {
        float w[32];
        dequant32(n, u, w);
        for (uint i = 0; i < MT; ++i) {
            if (m0 + i < pc.M) {
                const uint base = (m0 + i) * kv + u * 8;
                float s = 0.0;
                for (uint j = 0; j < 8; ++j)
                    s += dot(X[base + j], vec4(w[4 * j], w[4 * j + 1], w[4 * j + 2], w[4 * j + 3]));
                acc[i] += s;
            }
        }
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
    if (tid < MT && m0 + tid < pc.M)
        Y[(m0 + tid) * pc.N + pc.rowBase + n] = red[tid * WG];
}

#else

// Three layouts of a workgroup's tile of Y (BM rows of X x BN weight rows):
// - default: 128 x 128, 8 subgroups (2 x 4) of 64 x 32 each, 64-wide steps of K in one shared
//   buffer, double-buffered through registers (the next step's X and W are fetched before the
//   products and stored after them: two barriers per step);
// - QS_COOPMAT_WIDE: 128 x 128, 4 subgroups (2 x 2) of 64 x 64 each (16 accumulators: 8 tile
//   loads per 16 products instead of 6 per 8), 64-wide steps in one shared buffer double-buffered
//   through registers like the default, so two workgroups share an SM (w8a8.comp's best int8
//   layout; until session 7 it had 32-wide steps in two buffers, which always lost);
// - QS_COOPMAT_BIG: 128 x 256, 8 subgroups (2 x 4) of 64 x 64 each, 32-wide steps in one
//   shared buffer double-buffered through registers like the default (half the bytes of X per
//   product, a quarter fewer tile loads per product).
// - QS_COOPMAT_PIPE: the default's 128 x 128 and 64 x 32 per subgroup with 32-wide steps in
//   two shared buffers (48 KB with Cs), software-pipelined: the products of a step's first
//   slice, then the next step's tile stored into the other buffer and the step after next
//   fetched, then the second slice; one barrier per step, and the dequantization interleaves
//   with the products instead of stopping them.
// - QS_COOPMAT_SPLIT: the default's step and subgroup tile in 64 x 128 tiles of 4 subgroups, so
//   that two or three workgroups share an SM and one's stores and barriers overlap another's
//   products (X is read twice as often).
// A thread handles WPT = BN * BK / LT weights of W per step (32; 16 in PIPE, 64 in SPLIT and WIDE), so
// the tile loaders below and in the including shaders serve every layout through LT, BN, BK and
// WPT.
#if defined(QS_COOPMAT_SPLIT)
const uint BM = 64;
#else
const uint BM = 128;
#endif
#if defined(QS_COOPMAT_WIDE)
const uint BN = 128, LT = 128, BK = 64, NBUF = 1, WN = 64;
layout(local_size_x = 128) in;
#elif defined(QS_COOPMAT_BIG)
const uint BN = 256, LT = 256, BK = 32, NBUF = 1, WN = 64;
layout(local_size_x = 256) in;
#elif defined(QS_COOPMAT_PIPE)
const uint BN = 128, LT = 256, BK = 32, NBUF = 2, WN = 32;
layout(local_size_x = 256) in;
#elif defined(QS_COOPMAT_SPLIT)
const uint BN = 128, LT = 128, BK = 64, NBUF = 1, WN = 32;
layout(local_size_x = 128) in;
#else
const uint BN = 128, LT = 256, BK = 64, NBUF = 1, WN = 32;
layout(local_size_x = 256) in;
#endif
const uint NWARP = LT / 32u;
const uint WPT = BN * BK / LT;  // weights of W per thread per step
// Tiles in shared memory as uvec4 (8 halves): BK / 8 per row of the tile plus one of padding, so
// that the rows a quarter-subgroup reads at once fall in different banks. The matrix loads
// count element offsets and strides in uvec4s.
const uint UPR = BK / 8;  // uvec4 per row of a tile
const uint SA4 = UPR + 1;
shared uvec4 Xs[NBUF][BM * SA4];
shared uvec4 Ws[NBUF][BN * SA4];
shared float Cs[NWARP * 256];  // one 16x16 f32 tile per subgroup on the way out

layout(std430, binding = 2) readonly buffer W4Buf { uvec4 W4[]; };  // W again, 16 bytes at a time
// flags bit 31 (kXHalf): X arrives in f16 (to_half.comp ran once for the whole GEMM), 8 per uvec4,
// so each column tile reads half the bytes and converts nothing.
layout(std430, binding = 0) readonly buffer X8Buf { uvec4 X8[]; };
const uint kXHalf = 0x80000000u;
const uint kMFirst = 0x40000000u;
// Specialization constant 2: 0: the flag above decides; 1: X in f16, 2: X in f32 (the other
// path compiled out: fewer live registers for the next step's X).
layout(constant_id = 2) const uint X_MODE = 0;

uvec4 packHalf8(vec4 a, vec4 b)
{
    return uvec4(packHalf2x16(a.xy), packHalf2x16(a.zw), packHalf2x16(b.xy), packHalf2x16(b.zw));
}

// (A shared-buffer pair at 64 x 32 per subgroup measured 80 vs 116 TFLOP/s for the register
// double buffering on the H100: int4 28672x8192 at M=512.)
const uint XPT = BM * UPR / LT;  // uvec4 of the X tile per thread per step: 4 (default), 2 (big)
uvec4 xraw[2 * XPT];  // this thread's next X: XPT x 8 halves (f16 X) or XPT x 8 floats as bits

// X: 128 rows x UPR groups of 8 values; UPR neighbouring threads read one row's 8 * BK bytes
// (f32, converted at the store) or 2 * BK bytes (f16).
void fetchXTile(uint m0, uint k0, uint tid, bool xHalf)
{
    const uint kv = pc.K / 4;
    [[unroll]] for (uint r = 0; r < XPT; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / UPR, c = idx % UPR;
        xraw[2 * r] = uvec4(0u);
        xraw[2 * r + 1] = uvec4(0u);
        if (m0 + row < pc.M) {
            if (xHalf) {
                xraw[2 * r] = X8[(m0 + row) * (pc.K / 8u) + k0 / 8u + c];
            } else {
                const uint base = (m0 + row) * kv + k0 / 4 + 2u * c;
                xraw[2 * r] = floatBitsToUint(X[base]);
                xraw[2 * r + 1] = floatBitsToUint(X[base + 1]);
            }
        }
    }
}

void storeXTile(uint tid, bool xHalf, uint buf)
{
    [[unroll]] for (uint r = 0; r < XPT; ++r) {
        const uint idx = tid + LT * r;
        const uint row = idx / UPR, c = idx % UPR;
        Xs[buf][row * SA4 + c] = xHalf ? xraw[2 * r] : packHalf8(uintBitsToFloat(xraw[2 * r]), uintBitsToFloat(xraw[2 * r + 1]));
    }
}

#ifdef QS_TILE_LOADER
// Supplied by the including shader for its common layouts: tileLoaderFits() says whether this
// dispatch's layout has the coalesced loader (uniform); fetchWTile reads this thread's share of
// weight rows n0..n0+BN-1 and k0..k0+BK-1 into wraw/wscale/wzero, storeWTile dequantizes it
// into Ws[buf]; with QS_TILE_INIT, tileLoaderInit(tid) fills the loader's shared tables first.
uvec4 wraw[8];
float wscale[4];
float wzero[4];
bool tileLoaderFits();
void fetchWTile(uint n0, uint k0, uint tid);
void storeWTile(uint tid, uint buf);
#ifdef QS_TILE_INIT
void tileLoaderInit(uint tid);
#endif
#else
bool tileLoaderFits() { return false; }
void fetchWTile(uint n0, uint k0, uint tid) {}
void storeWTile(uint tid, uint buf) {}
#endif

// Any format: BN rows x BK / 32 units of 32 weights, one per thread and pass (LT threads cover
// them in one pass, two in SPLIT and WIDE; half the threads in PIPE), straight to Ws[0].
void dequantWTileGeneric(uint n0, uint k0, uint tid)
{
#if defined(QS_COOPMAT_SPLIT) || defined(QS_COOPMAT_WIDE)
    for (uint idx = tid; idx < BN * (BK / 32u); idx += LT) {
#else
    {  // the other layouts cover the tile in one pass
        const uint idx = tid;
        if (idx >= BN * (BK / 32u))
            return;
#endif
        const uint row = idx % BN, unit = idx / BN;
        float w[32];
        if (n0 + row < pc.rows)
            dequant32(n0 + row, k0 / 32u + unit, w);
        else
            [[unroll]] for (uint j = 0; j < 32; ++j)
                w[j] = 0.0;
        [[unroll]] for (uint q = 0; q < 4; ++q)
            Ws[0][row * SA4 + unit * 4u + q] = packHalf8(vec4(w[8 * q], w[8 * q + 1], w[8 * q + 2], w[8 * q + 3]),
                                                        vec4(w[8 * q + 4], w[8 * q + 5], w[8 * q + 6], w[8 * q + 7]));
    }
}

// Spec constant 3, the order of tile loads and products in a step (mma_shared_peak.comp's MODE):
// 0 all of A and B, then the products; 1 the tiles of A, then per tile of B its load and its
// products (fewer live fragments); 2 the next 16-wide slice's tiles loaded before this slice's
// products (fragments double-buffered within the step).
layout(constant_id = 3) const uint MMA_ORDER = 0;
#define F16M fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define QS_LOAD_A(dst, buf, kk)                                                                    \
    [[unroll]] for (uint i = 0; i < 4; ++i)                                                        \
        coopMatLoadNV(dst[i], Xs[buf], (wm * 64u + i * 16u) * SA4 + (kk) / 8u, SA4, false);
#define QS_LOAD_B(dst, buf, kk)                                                                    \
    [[unroll]] for (uint j = 0; j < WN / 16; ++j)                                                  \
        coopMatLoadNV(dst[j], Ws[buf], (wn * WN + j * 16u) * SA4 + (kk) / 8u, SA4, true);
#define QS_PRODUCTS(a, b)                                                                          \
    [[unroll]] for (uint i = 0; i < 4; ++i)                                                        \
        [[unroll]] for (uint j = 0; j < WN / 16; ++j)                                              \
            acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
#define QS_MMA_SLICE(buf, kk)                                                                      \
    {                                                                                              \
        F16M a[4];                                                                                 \
        F16M b[WN / 16];                                                                           \
        QS_LOAD_A(a, buf, kk)                                                                      \
        QS_LOAD_B(b, buf, kk)                                                                      \
        QS_PRODUCTS(a, b)                                                                          \
    }
#define QS_MMA_STEP(buf)                                                                           \
    if (MMA_ORDER == 2u) {                                                                         \
        F16M a2[2][4];                                                                             \
        F16M b2[2][WN / 16];                                                                       \
        QS_LOAD_A(a2[0], buf, 0u)                                                                  \
        QS_LOAD_B(b2[0], buf, 0u)                                                                  \
        [[unroll]] for (uint kk = 0; kk < BK; kk += 16) {                                          \
            const uint cur = (kk / 16u) % 2u;                                                      \
            if (kk + 16u < BK) {                                                                   \
                QS_LOAD_A(a2[1u - cur], buf, kk + 16u)                                             \
                QS_LOAD_B(b2[1u - cur], buf, kk + 16u)                                             \
            }                                                                                      \
            QS_PRODUCTS(a2[cur], b2[cur])                                                          \
        }                                                                                          \
    } else {                                                                                       \
        [[unroll]] for (uint kk = 0; kk < BK; kk += 16) {                                          \
            F16M a[4];                                                                             \
            QS_LOAD_A(a, buf, kk)                                                                  \
            if (MMA_ORDER == 1u) {                                                                 \
                [[unroll]] for (uint j = 0; j < WN / 16; ++j) {                                    \
                    F16M b;                                                                        \
                    coopMatLoadNV(b, Ws[buf], (wn * WN + j * 16u) * SA4 + kk / 8u, SA4, true);     \
                    [[unroll]] for (uint i = 0; i < 4; ++i)                                        \
                        acc[i][j] = coopMatMulAddNV(a[i], b, acc[i][j]);                           \
                }                                                                                  \
            } else {                                                                               \
                F16M b[WN / 16];                                                                   \
                QS_LOAD_B(b, buf, kk)                                                              \
                QS_PRODUCTS(a, b)                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint warp = tid / 32u, lane = tid % 32u;
    const uint wm = warp / (BN / WN), wn = warp % (BN / WN);  // BM / 64 x BN / WN subgroups
    // flags bit 30 (kMFirst): the grid runs the row tiles of X fastest (x), so the workgroups
    // that read one tile of W run together and W comes from DRAM about once; else the weight
    // tiles run fastest and W is streamed once per row tile of X.
    const bool mFirst = (pc.flags & kMFirst) != 0u;
    const uint m0 = (mFirst ? gl_WorkGroupID.x : gl_WorkGroupID.y) * BM;
    const uint n0 = (mFirst ? gl_WorkGroupID.y : gl_WorkGroupID.x) * BN;
    const bool xHalf = X_MODE == 1u || (X_MODE == 0u && (pc.flags & kXHalf) != 0u);
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][WN / 16];
    [[unroll]] for (uint i = 0; i < 4; ++i)
        [[unroll]] for (uint j = 0; j < WN / 16; ++j)
            acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
#ifdef QS_TILE_INIT
    tileLoaderInit(tid);
    barrier();
#endif

#ifdef QS_COOPMAT_PIPE
    if (tileLoaderFits()) {
        // Registers hold the next step's tile; each step multiplies one buffer while the other
        // receives the next step (between its two slices), then fetches the step after next.
        fetchXTile(m0, 0u, tid, xHalf);
        fetchWTile(n0, 0u, tid);
        storeXTile(tid, xHalf, 0u);
        storeWTile(tid, 0u);
        if (BK < pc.K) {
            fetchXTile(m0, BK, tid, xHalf);
            fetchWTile(n0, BK, tid);
        }
        barrier();
        uint buf = 0u;
        for (uint k0 = 0; k0 < pc.K; k0 += BK) {
            QS_MMA_SLICE(buf, 0u)
            if (k0 + BK < pc.K) {
                storeXTile(tid, xHalf, buf ^ 1u);
                storeWTile(tid, buf ^ 1u);
                if (k0 + 2u * BK < pc.K) {
                    fetchXTile(m0, k0 + 2u * BK, tid, xHalf);
                    fetchWTile(n0, k0 + 2u * BK, tid);
                }
            }
            QS_MMA_SLICE(buf, 16u)
            barrier();
            buf ^= 1u;
        }
    } else
#endif
    if (tileLoaderFits()) {
        fetchXTile(m0, 0u, tid, xHalf);
        fetchWTile(n0, 0u, tid);
        storeXTile(tid, xHalf, 0u);
        storeWTile(tid, 0u);
        barrier();
        uint buf = 0u;
        for (uint k0 = 0; k0 < pc.K; k0 += BK) {
            const bool more = k0 + BK < pc.K;
            if (more) {
                fetchXTile(m0, k0 + BK, tid, xHalf);
                fetchWTile(n0, k0 + BK, tid);
            }
            QS_MMA_STEP(buf)
            if (NBUF == 1u)
                barrier();  // everyone is done with the one buffer before it is overwritten
            if (more) {
                storeXTile(tid, xHalf, (buf + 1u) % NBUF);
                storeWTile(tid, (buf + 1u) % NBUF);
            }
            barrier();
            buf = (buf + 1u) % NBUF;
        }
    } else {
        for (uint k0 = 0; k0 < pc.K; k0 += BK) {
            fetchXTile(m0, k0, tid, xHalf);
            storeXTile(tid, xHalf, 0u);
            dequantWTileGeneric(n0, k0, tid);
            barrier();
            QS_MMA_STEP(0u)
            barrier();
        }
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
                    Y[(rm + r) * pc.N + pc.rowBase + rn + c] = Cs[warp * 256u + e];
            }
            subgroupBarrier();
        }
}

#endif
