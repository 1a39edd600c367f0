#version 450
// Counts x over bin edges E[0..B] into C[0..B-1], C[B] below, C[B+1] above, C[B+2] NaN, by
// binary search; per-workgroup counts in shared memory when they fit, global atomics otherwise.
layout(local_size_x = 256) in;

layout(push_constant) uniform Params {
    uint count, B;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { float X[]; };
layout(std430, binding = 1) buffer CBuf { uint C[]; };
layout(std430, binding = 3) readonly buffer EBuf { float E[]; };

const uint kShared = 4000;
shared uint sh[kShared];

uint slotOf(float v)
{
    if (isnan(v))
        return pc.B + 2;
    if (v < E[0])
        return pc.B;
    if (v > E[pc.B])
        return pc.B + 1;
    uint lo = 0, hi = pc.B;  // E[lo] <= v; the bin is below hi
    while (hi - lo > 1) {
        const uint mid = (lo + hi) / 2;
        if (E[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void main()
{
    const bool local = pc.B + 3 <= kShared;
    const uint tid = gl_LocalInvocationID.x;
    if (local) {
        for (uint i = tid; i < pc.B + 3; i += 256)
            sh[i] = 0;
        barrier();
    }
    const uint stride = gl_NumWorkGroups.x * 256;
    for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride) {
        const uint s = slotOf(X[i]);
        if (local)
            atomicAdd(sh[s], 1u);
        else
            atomicAdd(C[s], 1u);
    }
    if (local) {
        barrier();
        for (uint i = tid; i < pc.B + 3; i += 256)
            if (sh[i] != 0u)
                atomicAdd(C[i], sh[i]);
    }
}
