// Shared by every dequant-GEMM shader: bindings, push constants and the portable main loop.
// A workgroup owns one weight row n (within the bound row chunk) and MT rows of X; each thread
// walks 32-element units of K and the workgroup reduces through shared memory (no assumption
// on the subgroup size, so lavapipe's 8 and NVIDIA's 32 both work).
// The including shader defines dequant32(n, u, w): weights k = 32u .. 32u+31 of row n.
#extension GL_GOOGLE_include_directive : enable

layout(constant_id = 0) const uint WG = 128;  // threads per workgroup, a power of two
layout(constant_id = 1) const uint MT = 4;    // rows of X per workgroup
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Params {
    uint M;        // rows of X in this dispatch
    uint N;        // total weight rows (the row stride of Y)
    uint K;
    uint rowBase;  // global index of the first weight row bound
    uint bits;
    uint groupSize;
    uint flags;    // format-specific switches
    uint rowBytes; // bytes per weight row (raw block formats)
} pc;

layout(std430, binding = 0) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };
layout(std430, binding = 2) readonly buffer WBuf { uint W[]; };
layout(std430, binding = 3) readonly buffer SBuf { float S[]; };
layout(std430, binding = 4) readonly buffer ZBuf { float Z[]; };
layout(std430, binding = 5) readonly buffer ABuf { int A[]; };

shared float red[WG * MT];

void dequant32(uint n, uint u, out float w[32]);

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
