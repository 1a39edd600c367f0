#version 450
// The tensor cores' own ceiling through GL_NV_cooperative_matrix: each subgroup keeps 8
// independent 16x16 f32 accumulators and multiplies f16 16x16 tiles held in registers, with no
// memory traffic inside the loop. The benchmark reports GEMMs and X^T X as a percentage of it.
// QS_INT8: the same with int8 16x32 x 32x16 tiles into int32 (W8A8's ceiling).
#extension GL_NV_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#ifdef QS_INT8
#extension GL_NV_integer_cooperative_matrix : enable
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : enable
#define MAT_A icoopmatNV<8, gl_ScopeSubgroup, 16, 32>
#define MAT_B icoopmatNV<8, gl_ScopeSubgroup, 32, 16>
#define MAT_C icoopmatNV<32, gl_ScopeSubgroup, 16, 16>
#define TILE_T int8_t
#define OUT_T int
#else
#define MAT_A fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define MAT_B fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define MAT_C fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>
#define TILE_T float16_t
#define OUT_T float
#endif
#extension GL_KHR_memory_scope_semantics : enable
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 256) in;
layout(push_constant) uniform Params { uint iters; } pc;
layout(std430, binding = 1) writeonly buffer YBuf { float Y[]; };

shared TILE_T tiles[4 * 512];
shared OUT_T outTile[8 * 256];

void main()
{
    const uint tid = gl_LocalInvocationID.x, warp = tid / 32u;
    [[unroll]] for (uint i = 0; i < 8; ++i)
#ifdef QS_INT8
        tiles[tid + 256u * i] = int8_t((tid * 7u + i * 13u) % 17u);
#else
        tiles[tid + 256u * i] = float16_t(float((tid * 7u + i * 13u) % 17u) * 0.001);
#endif
    barrier();
    MAT_A a0, a1;
    MAT_B b0, b1;
    coopMatLoadNV(a0, tiles, 0, 32, false);
    coopMatLoadNV(a1, tiles, 512, 32, false);
    coopMatLoadNV(b0, tiles, 1024, 32, true);
    coopMatLoadNV(b1, tiles, 1536, 32, true);
    MAT_C acc[8];
    [[unroll]] for (uint i = 0; i < 8; ++i)
        acc[i] = MAT_C(0);
    for (uint it = 0; it < pc.iters; ++it) {
        acc[0] = coopMatMulAddNV(a0, b0, acc[0]);
        acc[1] = coopMatMulAddNV(a0, b1, acc[1]);
        acc[2] = coopMatMulAddNV(a1, b0, acc[2]);
        acc[3] = coopMatMulAddNV(a1, b1, acc[3]);
        acc[4] = coopMatMulAddNV(a1, b1, acc[4]);
        acc[5] = coopMatMulAddNV(a1, b0, acc[5]);
        acc[6] = coopMatMulAddNV(a0, b1, acc[6]);
        acc[7] = coopMatMulAddNV(a0, b0, acc[7]);
    }
    // Every accumulator reaches memory (the products cannot be optimized away); one value each.
    OUT_T keep = OUT_T(0);
    [[unroll]] for (uint i = 0; i < 8; ++i) {
        coopMatStoreNV(acc[i], outTile, warp * 256u, 16, false);
        barrier();
        keep += outTile[warp * 256u + tid % 32u];
        barrier();
    }
    Y[gl_GlobalInvocationID.x] = float(keep);
}
