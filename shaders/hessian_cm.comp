#version 450
// H[i][j] += sum_m X[m][i] X[m][j] with GL_NV_cooperative_matrix (16x16x16 f16 -> f32) at f32
// accuracy: each x is split into x_hi = f16(x) and x_lo = f16(x - x_hi), and
// x_i x_j ~ hi_i hi_j + hi_i lo_j + lo_i hi_j (the dropped lo*lo term is ~2^-22 relative;
// f16 subnormals cost a little more below |x| ~ 6e-5 * 2^11).
// The host uses this only when max|x| fits f16. A workgroup of 8 subgroups of 32 owns a
// 128 x 128 tile of H (subgroups 2 x 4, 64 x 32 each) and steps through X 32 rows at a time.
// H rows may be bound in chunks (pc.iBase is the first bound row); X is bound whole.
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 256) in;

layout(push_constant) uniform Params {
    uint M, K, iBase, iRows;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { float X[]; };
layout(std430, binding = 1) buffer HBuf { float H[]; };

const uint T = 128, BK = 32, SA = T + 8;
shared float16_t iHi[BK * SA];
shared float16_t iLo[BK * SA];
shared float16_t jHi[BK * SA];
shared float16_t jLo[BK * SA];
shared float Cs[8 * 256];

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint warp = tid / 32u, lane = tid % 32u;
    const uint wm = warp / 4u, wn = warp % 4u;
    const uint i0 = gl_WorkGroupID.y * T;  // within the bound rows
    const uint j0 = gl_WorkGroupID.x * T;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][2];
    [[unroll]] for (uint a = 0; a < 4; ++a)
        [[unroll]] for (uint b = 0; b < 2; ++b)
            acc[a][b] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
    for (uint m0 = 0; m0 < pc.M; m0 += BK) {
        for (uint e = tid; e < BK * T; e += 256u) {
            const uint r = e / T, c = e % T;
            const uint m = m0 + r;
            const uint gi = pc.iBase + i0 + c, gj = j0 + c;
            const float vi = (m < pc.M && i0 + c < pc.iRows) ? X[m * pc.K + gi] : 0.0;
            const float vj = (m < pc.M && gj < pc.K) ? X[m * pc.K + gj] : 0.0;
            // hi keeps the top 11 significant bits (exact in f16), by masking: a round trip
            // through f16 may be folded away by the driver's compiler, losing lo entirely.
            const float hi = uintBitsToFloat(floatBitsToUint(vi) & 0xFFFFE000u);
            const float hj = uintBitsToFloat(floatBitsToUint(vj) & 0xFFFFE000u);
            iHi[r * SA + c] = float16_t(hi);
            iLo[r * SA + c] = float16_t(vi - hi);
            jHi[r * SA + c] = float16_t(hj);
            jLo[r * SA + c] = float16_t(vj - hj);
        }
        barrier();
        [[unroll]] for (uint kk = 0; kk < BK; kk += 16) {
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> ah[4], al[4], bh[2], bl[2];
            [[unroll]] for (uint a = 0; a < 4; ++a) {
                // A[i][m] = X[m][i]: stored [m][i], so column-major.
                coopMatLoadNV(ah[a], iHi, kk * SA + wm * 64u + a * 16u, SA, true);
                coopMatLoadNV(al[a], iLo, kk * SA + wm * 64u + a * 16u, SA, true);
            }
            [[unroll]] for (uint b = 0; b < 2; ++b) {
                coopMatLoadNV(bh[b], jHi, kk * SA + wn * 32u + b * 16u, SA, false);
                coopMatLoadNV(bl[b], jLo, kk * SA + wn * 32u + b * 16u, SA, false);
            }
            [[unroll]] for (uint a = 0; a < 4; ++a)
                [[unroll]] for (uint b = 0; b < 2; ++b) {
                    acc[a][b] = coopMatMulAddNV(ah[a], bh[b], acc[a][b]);
                    acc[a][b] = coopMatMulAddNV(ah[a], bl[b], acc[a][b]);
                    acc[a][b] = coopMatMulAddNV(al[a], bh[b], acc[a][b]);
                }
        }
        barrier();
    }
    [[unroll]] for (uint a = 0; a < 4; ++a)
        [[unroll]] for (uint b = 0; b < 2; ++b) {
            coopMatStoreNV(acc[a][b], Cs, warp * 256u, 16, false);
            memoryBarrierShared();
            subgroupBarrier();
            const uint ri = i0 + wm * 64u + a * 16u, rj = j0 + wn * 32u + b * 16u;
            [[unroll]] for (uint e = lane; e < 256u; e += 32u) {
                const uint r = e / 16u, c = e % 16u;
                if (ri + r < pc.iRows && rj + c < pc.K)
                    H[(ri + r) * pc.K + rj + c] += Cs[warp * 256u + e];
            }
            subgroupBarrier();
        }
}
