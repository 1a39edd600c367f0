#version 450
// The tensor cores fed from shared memory, as the cooperative-matrix GEMMs feed them, with no
// global memory and no barriers inside the loop: the ceiling of a GEMM's inner loop. Each
// subgroup owns 64 x WN of a 128 x 128 tile (4 x WN / 16 accumulators) and per 16-wide step of
// K loads 4 tiles of A and WN / 16 of B from padded shared rows (gemm_common.glsl's layout:
// 64 halves per row plus padding) and multiplies them.
// Spec constants: 0 WN (32 or 64); 1 the row stride in uvec4 (9: the GEMMs' padding; 8: none);
// 2 MODE, the order of loads and products per 16-wide step: 0 all tiles of A and B, then the
// products (the GEMMs' order); 1 the tiles of A, then per tile of B its load and 4 products;
// 2 the next step's tiles loaded before this step's products (fragments double-buffered);
// 3 threads per workgroup (32 x subgroups: 256 or 128).
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_EXT_control_flow_attributes : enable
layout(constant_id = 0) const uint WN = 32;
layout(constant_id = 1) const uint SA4 = 9;
layout(constant_id = 2) const uint MODE = 0;
layout(constant_id = 3) const uint THREADS = 256;
layout(local_size_x_id = 3) in;
layout(push_constant) uniform Params { uint iters; } pc;
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };

shared uvec4 As[128 * 16];
shared uvec4 Bs[128 * 16];
shared float outTile[8 * 256];

#define F16M fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define F32M fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>

void main()
{
    const uint tid = gl_LocalInvocationID.x, warp = tid / 32u;
    const uint wm = warp / (128u / WN) % 2u, wn = warp % (128u / WN);
    for (uint i = tid; i < 128u * 16u; i += THREADS) {
        const uint v = (i * 2654435761u) & 0x3BFF3BFFu;  // small positive f16 pairs
        As[i] = uvec4(v, v ^ 0x00010001u, v ^ 0x00020002u, v ^ 0x00030003u);
        Bs[i] = uvec4(v ^ 0x00040004u, v, v ^ 0x00050005u, v ^ 0x00060006u);
    }
    barrier();
    F32M acc[4][WN / 16];
    [[unroll]] for (uint i = 0; i < 4; ++i)
        [[unroll]] for (uint j = 0; j < WN / 16; ++j)
            acc[i][j] = F32M(0.0);
    const uint aBase = wm * 64u * SA4, bBase = wn * WN * SA4;
    if (MODE == 2u) {
        F16M a[2][4];
        F16M b[2][WN / 16];
        [[unroll]] for (uint i = 0; i < 4; ++i)
            coopMatLoadNV(a[0][i], As, aBase + i * 16u * SA4, SA4, false);
        [[unroll]] for (uint j = 0; j < WN / 16; ++j)
            coopMatLoadNV(b[0][j], Bs, bBase + j * 16u * SA4, SA4, true);
        for (uint it = 0; it < pc.iters; ++it) {
            [[unroll]] for (uint kk = 0; kk < 4; ++kk) {
                const uint cur = kk % 2u, nxt = 1u - cur;
                const uint kofs = ((kk + 1u) % 4u) * 2u;
                [[unroll]] for (uint i = 0; i < 4; ++i)
                    coopMatLoadNV(a[nxt][i], As, aBase + i * 16u * SA4 + kofs, SA4, false);
                [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                    coopMatLoadNV(b[nxt][j], Bs, bBase + j * 16u * SA4 + kofs, SA4, true);
                [[unroll]] for (uint i = 0; i < 4; ++i)
                    [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                        acc[i][j] = coopMatMulAddNV(a[cur][i], b[cur][j], acc[i][j]);
            }
        }
    } else {
        for (uint it = 0; it < pc.iters; ++it) {
            [[unroll]] for (uint kk = 0; kk < 64; kk += 16) {
                const uint kofs = ((kk + 16u * it) % 64u) / 8u;
                F16M a[4];
                [[unroll]] for (uint i = 0; i < 4; ++i)
                    coopMatLoadNV(a[i], As, aBase + i * 16u * SA4 + kofs, SA4, false);
                if (MODE == 1u) {
                    [[unroll]] for (uint j = 0; j < WN / 16; ++j) {
                        F16M b;
                        coopMatLoadNV(b, Bs, bBase + j * 16u * SA4 + kofs, SA4, true);
                        [[unroll]] for (uint i = 0; i < 4; ++i)
                            acc[i][j] = coopMatMulAddNV(a[i], b, acc[i][j]);
                    }
                } else {
                    F16M b[WN / 16];
                    [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                        coopMatLoadNV(b[j], Bs, bBase + j * 16u * SA4 + kofs, SA4, true);
                    [[unroll]] for (uint i = 0; i < 4; ++i)
                        [[unroll]] for (uint j = 0; j < WN / 16; ++j)
                            acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
                }
            }
        }
    }
    float keep = 0.0;
    [[unroll]] for (uint i = 0; i < 4; ++i)
        [[unroll]] for (uint j = 0; j < WN / 16; ++j) {
            coopMatStoreNV(acc[i][j], outTile, warp * 256u, 16, false);
            barrier();
            keep += outTile[warp * 256u + tid % 32u];
            barrier();
        }
    Y[gl_GlobalInvocationID.x] = keep;
}
