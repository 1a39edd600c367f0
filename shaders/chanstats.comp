#version 450
// Per-column absmax, sum |x| and sum x^2 over a slice of rows: column = global x id (adjacent
// threads read adjacent columns), slice = workgroup y. Partials [slice][3][K] are summed on
// the host in double.
layout(local_size_x = 128) in;

layout(push_constant) uniform Params {
    uint M, K, rowsPerSlice, outBase;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { float X[]; };
layout(std430, binding = 1) writeonly buffer OBuf { float O[]; };

void main()
{
    const uint c = gl_GlobalInvocationID.x;
    if (c >= pc.K)
        return;
    const uint slice = gl_WorkGroupID.y;
    const uint r0 = slice * pc.rowsPerSlice;
    const uint r1 = min(pc.M, r0 + pc.rowsPerSlice);
    float amax = 0.0, sa = 0.0, sq = 0.0;
    for (uint r = r0; r < r1; ++r) {
        const float v = X[r * pc.K + c];
        amax = max(amax, abs(v));
        sa += abs(v);
        sq += v * v;
    }
    const uint o = pc.outBase + slice * 3 * pc.K;
    O[o + c] = amax;
    O[o + pc.K + c] = sa;
    O[o + 2 * pc.K + c] = sq;
}
