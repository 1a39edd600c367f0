#version 450
// f32 -> f16, 8 values per thread (count a multiple of 8; the host pads). Round to nearest.
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
layout(local_size_x = 256) in;

layout(push_constant) uniform Params {
    uint count8;  // groups of 8 values
} pc;

layout(std430, binding = 0) readonly buffer XBuf { vec4 X[]; };
layout(std430, binding = 1) writeonly buffer HBuf { uvec4 Xh[]; };

void main()
{
    const uint i = gl_GlobalInvocationID.x + gl_NumWorkGroups.x * 256u * gl_GlobalInvocationID.y;
    if (i >= pc.count8)
        return;
    const vec4 a = X[2u * i], b = X[2u * i + 1u];
    Xh[i] = uvec4(packFloat2x16(f16vec2(a.xy)), packFloat2x16(f16vec2(a.zw)), packFloat2x16(f16vec2(b.xy)),
                  packFloat2x16(f16vec2(b.zw)));
}
