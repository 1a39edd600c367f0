#version 450
// int8 activations x int8 per-channel weights, int32 accumulation, then the two scales.
// Same work split as gemm_common.glsl: one weight row per workgroup, MT rows of X.
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint MT = 4;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Params {
    uint M, N, K, rowBase, bits, groupSize, flags, rowBytes;  // flags bit 0: one x scale
} pc;

layout(std430, binding = 0) readonly buffer XqBuf { int Xq[]; };   // packed int8 [M][K/4]
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 2) readonly buffer WBuf { int Wq[]; };    // packed int8 [N][K/4]
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };   // weight scales [N]
layout(std430, binding = 4) readonly buffer ZBuf { float SX[]; };  // x scales [M] or [1]

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
        const float sx = (pc.flags & 1u) != 0u ? SX[0] : SX[m0 + tid];
        Y[(m0 + tid) * pc.N + pc.rowBase + n] = float(red[tid * WG]) * sx * S[n];
    }
}
