#version 450
// H[i][j] += sum_m X[m][i] X[m][j] from X in f16 (to_half.comp's output) with f32 accumulation
// on the tensor cores (GL_NV_cooperative_matrix 16x16x16). GPTQ's reference feeds f16
// activations, so this is its arithmetic; against the f32 CPU twin the error is that of
// rounding X to f16 (~3e-4 normalized). A workgroup owns a 128 x 128 tile of H; its subgroups
// hold 64 x WN each. X steps through shared memory 32 rows at a time, double-buffered: the next
// step's rows are loaded into registers while this step multiplies, one barrier per step.
// sym = 1 (H bound whole): only tiles on and above the diagonal run, and an off-diagonal tile
// also adds its transpose below (H and X^T X are symmetric): half the products.
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_EXT_control_flow_attributes : enable

layout(constant_id = 0) const uint THREADS = 256;  // 32 * 2 * (128 / WN)
layout(constant_id = 1) const uint WN = 32;        // columns per subgroup: 32 or 64
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Params {
    uint M, K, iBase, iRows, sym;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { uvec4 X8[]; };  // f16, 8 per uvec4, rows of K
layout(std430, binding = 1) buffer HBuf { float H[]; };

const uint T = 128, BK = 32;
const uint SA = T / 8 + 1;  // uvec4 per shared row (+1: rows fall in different banks)
const uint NW = THREADS / 32u;
const uint LOADS = BK * (T / 8) / THREADS;  // uvec4 per thread per matrix per step
shared uvec4 Xi[2][BK * SA];
shared uvec4 Xj[2][BK * SA];
shared float Cs[8 * 256];

#define F16M fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define F32M fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint warp = tid / 32u, lane = tid % 32u;
    const uint wm = warp / (T / WN), wn = warp % (T / WN);  // 2 x (128 / WN) subgroups
    const uint i0 = gl_WorkGroupID.y * T;  // within the bound rows of H
    const uint j0 = gl_WorkGroupID.x * T;
    if (pc.sym != 0u && j0 < i0)
        return;  // the transpose of a tile above the diagonal adds it
    const uint k8 = pc.K / 8u;
    F32M acc[4][WN / 16];
    [[unroll]] for (uint a = 0; a < 4; ++a)
        [[unroll]] for (uint b = 0; b < WN / 16; ++b)
            acc[a][b] = F32M(0.0);

    uvec4 ri[LOADS], rj[LOADS];
    // Registers <- rows m0..m0+31 of X, columns i0.. and j0.. (zeros outside).
    #define LOAD_STEP(m0)                                                                      \
        [[unroll]] for (uint l = 0; l < LOADS; ++l) {                                            \
            const uint e = tid + THREADS * l, r = e / (T / 8u), c = e % (T / 8u);                \
            const uint m = (m0) + r;                                                             \
            const uint ci = pc.iBase + i0 + 8u * c, cj = j0 + 8u * c;                            \
            ri[l] = (m < pc.M && i0 + 8u * c < pc.iRows) ? X8[m * k8 + ci / 8u] : uvec4(0u);      \
            rj[l] = (m < pc.M && cj < pc.K) ? X8[m * k8 + cj / 8u] : uvec4(0u);                  \
        }
    #define STORE_STEP(buf)                                                                    \
        [[unroll]] for (uint l = 0; l < LOADS; ++l) {                                            \
            const uint e = tid + THREADS * l, r = e / (T / 8u), c = e % (T / 8u);                \
            Xi[buf][r * SA + c] = ri[l];                                                         \
            Xj[buf][r * SA + c] = rj[l];                                                         \
        }
    LOAD_STEP(0u)
    STORE_STEP(0u)
    barrier();
    uint buf = 0u;
    for (uint m0 = 0; m0 < pc.M; m0 += BK) {
        const bool more = m0 + BK < pc.M;
        if (more) {
            LOAD_STEP(m0 + BK)
        }
        [[unroll]] for (uint kk = 0; kk < BK; kk += 16) {
            F16M fa[4], fb[WN / 16];
            // A[i][m] = X[m][i]: stored [m][i], so column-major; B[m][j] row-major.
            [[unroll]] for (uint a = 0; a < 4; ++a)
                coopMatLoadNV(fa[a], Xi[buf], kk * SA + (wm * 64u + a * 16u) / 8u, SA, true);
            [[unroll]] for (uint b = 0; b < WN / 16; ++b)
                coopMatLoadNV(fb[b], Xj[buf], kk * SA + (wn * WN + b * 16u) / 8u, SA, false);
            [[unroll]] for (uint a = 0; a < 4; ++a)
                [[unroll]] for (uint b = 0; b < WN / 16; ++b)
                    acc[a][b] = coopMatMulAddNV(fa[a], fb[b], acc[a][b]);
        }
        if (more) {
            STORE_STEP(buf ^ 1u)
        }
        barrier();
        buf ^= 1u;
    }
    const bool mirror = pc.sym != 0u && j0 != i0;
    [[unroll]] for (uint a = 0; a < 4; ++a)
        [[unroll]] for (uint b = 0; b < WN / 16; ++b) {
            coopMatStoreNV(acc[a][b], Cs, (warp % 8u) * 256u, 16, false);
            memoryBarrierShared();
            subgroupBarrier();
            const uint ri0 = i0 + wm * 64u + a * 16u, rj0 = j0 + wn * WN + b * 16u;
            [[unroll]] for (uint e = lane; e < 256u; e += 32u) {
                const uint r = e / 16u, c = e % 16u;
                const float v = Cs[(warp % 8u) * 256u + e];
                if (ri0 + r < pc.iRows && rj0 + c < pc.K)
                    H[(ri0 + r) * pc.K + rj0 + c] += v;
                // The transposed tile: consecutive lanes walk a column of Cs so that the writes
                // go along rows of H.
                const uint rt = e % 16u, ct = e / 16u;
                const float vt = Cs[(warp % 8u) * 256u + rt * 16u + ct];
                if (mirror && ri0 + rt < pc.iRows && rj0 + ct < pc.K)
                    H[(rj0 + ct) * pc.K + ri0 + rt] += vt;
            }
            subgroupBarrier();
        }
}
