#version 450
// H[i][j] += sum_m X[m][i] X[m][j] for a 64x64 tile of H per workgroup of 256 threads (4x4
// outputs each), stepping through X 16 rows at a time via shared memory. H rows may be bound
// in chunks (pc.iBase is the first bound row); X is bound whole for this dispatch.
layout(local_size_x = 256) in;

layout(push_constant) uniform Params {
    uint M, K, iBase, iRows;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { float X[]; };
layout(std430, binding = 1) buffer HBuf { float H[]; };

const uint T = 64, TM = 16;
shared float xi[TM][T];
shared float xj[TM][T];

void main()
{
    const uint i0 = gl_WorkGroupID.y * T;  // within the bound rows
    const uint j0 = gl_WorkGroupID.x * T;
    const uint tid = gl_LocalInvocationID.x;
    const uint ti = (tid / 16) * 4, tj = (tid % 16) * 4;
    float acc[4][4];
    for (uint a = 0; a < 4; ++a)
        for (uint b = 0; b < 4; ++b)
            acc[a][b] = 0.0;
    for (uint m0 = 0; m0 < pc.M; m0 += TM) {
        for (uint e = tid; e < TM * T; e += 256) {
            const uint r = e / T, c = e % T;
            const uint m = m0 + r;
            const uint gi = pc.iBase + i0 + c, gj = j0 + c;
            xi[r][c] = (m < pc.M && gi < pc.K) ? X[m * pc.K + gi] : 0.0;
            xj[r][c] = (m < pc.M && gj < pc.K) ? X[m * pc.K + gj] : 0.0;
        }
        barrier();
        for (uint r = 0; r < TM; ++r) {
            vec4 a = vec4(xi[r][ti], xi[r][ti + 1], xi[r][ti + 2], xi[r][ti + 3]);
            vec4 b = vec4(xj[r][tj], xj[r][tj + 1], xj[r][tj + 2], xj[r][tj + 3]);
            for (uint p = 0; p < 4; ++p)
                for (uint q = 0; q < 4; ++q)
                    acc[p][q] += a[p] * b[q];
        }
        barrier();
    }
    for (uint p = 0; p < 4; ++p)
        for (uint q = 0; q < 4; ++q) {
            const uint i = i0 + ti + p, j = j0 + tj + q;
            if (i < pc.iRows && j < pc.K)
                H[i * pc.K + j] += acc[p][q];
        }
}
