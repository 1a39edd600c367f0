#version 450
// C = op(A) op(B), op(X) = X or X^T, in f32 with f32 FMA (GPTQ's products: its errors need f32, not f16): one
// BM x BN tile of C per workgroup, TM x TN outputs per thread, interleaved (rows ty + i*BM/TM,
// columns tx + j*BN/TN) so that neighbouring threads read neighbouring shared words and write
// neighbouring addresses. A and B pass through shared memory in BK-deep slices. Any shape: loads
// past the edges read 0 and stores past them are skipped. No subgroup operations.
#extension GL_EXT_control_flow_attributes : enable

layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint TM = 4;
layout(constant_id = 3) const uint TN = 4;
layout(local_size_x_id = 4) in;  // (BM / TM) * (BN / TN)
const uint BK = 16;

layout(std430, binding = 0) readonly buffer MatA { float a[]; };
layout(std430, binding = 1) buffer MatC { float c[]; };
layout(std430, binding = 2) readonly buffer MatB { float b[]; };

layout(push_constant) uniform Push {
    uint m, n, k;     // C is m x n; the sum runs over k
    uint offA, lda;   // A[i][l] = a[offA + i * lda + l]; transposed: a[offA + l * lda + i]
    uint offB, ldb;   // B[l][j] = b[offB + l * ldb + j]; transposed: b[offB + j * ldb + l]
    uint offC, ldc;   // C[i][j] = c[offC + i * ldc + j]
    uint flags;       // 1: B transposed; 2: add onto C (a sum split over several dispatches);
                      // 4: A transposed
} p;

// As[l][i] with a pad word per row: the A loads (l fastest) then write to different banks.
shared float As[BK * (BM + 1)];
shared float Bs[BK * (BN + 1)];

void main()
{
    const uint threads = (BM / TM) * (BN / TN);
    const uint tid = gl_LocalInvocationID.x;
    const uint tx = tid % (BN / TN), ty = tid / (BN / TN);
    const uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;
    const bool transB = (p.flags & 1u) != 0u, transA = (p.flags & 4u) != 0u;

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; ++i)
        [[unroll]] for (uint j = 0; j < TN; ++j)
            acc[i][j] = 0.0;

    for (uint l0 = 0; l0 < p.k; l0 += BK) {
        // Neighbouring threads read neighbouring words of A's (and B's) stored rows.
        if (transA) {
            for (uint e = tid; e < BM * BK; e += threads) {
                const uint l = e / BM, i = e % BM, gi = row0 + i, gl = l0 + l;
                As[l * (BM + 1) + i] = (gi < p.m && gl < p.k) ? a[p.offA + gl * p.lda + gi] : 0.0;
            }
        } else {
            for (uint e = tid; e < BM * BK; e += threads) {
                const uint i = e / BK, l = e % BK, gi = row0 + i, gl = l0 + l;
                As[l * (BM + 1) + i] = (gi < p.m && gl < p.k) ? a[p.offA + gi * p.lda + gl] : 0.0;
            }
        }
        if (transB) {
            for (uint e = tid; e < BN * BK; e += threads) {
                const uint j = e / BK, l = e % BK, gj = col0 + j, gl = l0 + l;
                Bs[l * (BN + 1) + j] = (gj < p.n && gl < p.k) ? b[p.offB + gj * p.ldb + gl] : 0.0;
            }
        } else {
            for (uint e = tid; e < BN * BK; e += threads) {
                const uint l = e / BN, j = e % BN, gj = col0 + j, gl = l0 + l;
                Bs[l * (BN + 1) + j] = (gj < p.n && gl < p.k) ? b[p.offB + gl * p.ldb + gj] : 0.0;
            }
        }
        barrier();
        [[unroll]] for (uint l = 0; l < BK; ++l) {
            float av[TM], bv[TN];
            [[unroll]] for (uint i = 0; i < TM; ++i)
                av[i] = As[l * (BM + 1) + ty + i * (BM / TM)];
            [[unroll]] for (uint j = 0; j < TN; ++j)
                bv[j] = Bs[l * (BN + 1) + tx + j * (BN / TN)];
            [[unroll]] for (uint i = 0; i < TM; ++i)
                [[unroll]] for (uint j = 0; j < TN; ++j)
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier();
    }

    const bool add = (p.flags & 2u) != 0u;
    [[unroll]] for (uint i = 0; i < TM; ++i) {
        const uint gi = row0 + ty + i * (BM / TM);
        if (gi >= p.m)
            continue;
        [[unroll]] for (uint j = 0; j < TN; ++j) {
            const uint gj = col0 + tx + j * (BN / TN);
            if (gj < p.n) {
                const uint at = p.offC + gi * p.ldc + gj;
                c[at] = add ? c[at] + acc[i][j] : acc[i][j];
            }
        }
    }
}
