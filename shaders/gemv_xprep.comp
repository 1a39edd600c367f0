#version 450
// Pre-pass of gemv_mma.comp: X (M x K, f32) to the f16 fragments that shader's B operand
// takes, in its k order, as hi = f16(x) and lo = f16(x - hi) (hi + lo keeps ~22 bits), plus the
// sum of X over each 128-wide block (for the zero points). One thread per (row of X, block,
// lane t, word w): 8 values of X in, two uvec4 out; 16 threads sum a block.
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
layout(local_size_x = 64) in;

layout(push_constant) uniform Params {
    uint M;
    uint K;
} pc;

layout(std430, binding = 0) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 5) writeonly buffer XhBuf { uvec4 Xh[]; };
layout(std430, binding = 5) writeonly buffer XsBuf { float Xs[]; };

shared float part[64];

uint packPair(float a, float b, out vec2 lo)
{
    const f16vec2 h = f16vec2(float16_t(a), float16_t(b));
    lo = vec2(a, b) - vec2(h);
    return packFloat2x16(h);
}

void main()
{
    const uint blocks = pc.K / 128u;
    const uint id = gl_GlobalInvocationID.x;
    const uint lid = gl_LocalInvocationID.x;
    const uint w = id % 4u, t = (id / 4u) % 4u, blk = (id / 16u) % blocks, b = id / (16u * blocks);
    float sum = 0.0;
    if (b < pc.M) {
        const uint xi = (b * pc.K + blk * 128u + 32u * t + 8u * w) / 4u;
        const vec4 e0 = X[xi], e1 = X[xi + 1u];
        vec2 l0, l1, l2, l3;
        // B fragments: product 2w takes (x0, x4) and (x2, x6), product 2w+1 (x1, x5) and (x3, x7).
        const uvec4 hi = uvec4(packPair(e0.x, e1.x, l0), packPair(e0.z, e1.z, l1), packPair(e0.y, e1.y, l2),
                               packPair(e0.w, e1.w, l3));
        const uvec4 lo = uvec4(packFloat2x16(f16vec2(l0)), packFloat2x16(f16vec2(l1)), packFloat2x16(f16vec2(l2)),
                               packFloat2x16(f16vec2(l3)));
        const uint o = ((b * blocks + blk) * 4u + t) * 8u + 2u * w;
        Xh[o] = hi;
        Xh[o + 1u] = lo;
        sum = dot(e0, vec4(1.0)) + dot(e1, vec4(1.0));
    }
    part[lid] = sum;
    barrier();
    // 16 consecutive threads hold one block (64 threads: 4 blocks).
    for (uint s = 8u; s > 0u; s >>= 1u) {
        if ((lid % 16u) < s)
            part[lid] += part[lid + s];
        barrier();
    }
    if (lid % 16u == 0u && b < pc.M)
        Xs[pc.M * blocks * 128u + b * blocks + blk] = part[lid];
}
