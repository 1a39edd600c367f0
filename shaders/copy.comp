#version 450
// Plain vec4 copy: the bandwidth ceiling the benchmark measures on each device.
layout(local_size_x = 256) in;
layout(push_constant) uniform Params { uint count; } pc;  // vec4 elements
layout(std430, binding = 0) readonly buffer Src { vec4 S[]; };
layout(std430, binding = 1) writeonly buffer Dst { vec4 D[]; };

void main()
{
    const uint stride = gl_NumWorkGroups.x * 256;
    for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride)
        D[i] = S[i];
}
