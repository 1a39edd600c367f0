#version 450
// Causal grouped-query attention, out = softmax(Q K^T * scale + causal mask) V, in f32, flash-
// attention style: a workgroup takes BQ query rows of one head of one sample and walks the key
// tiles they see (none past the block's last position), keeping per row a running maximum and
// sum (online softmax) and the output row in registers. Four threads share a row: each scores
// BK/4 keys of a tile and accumulates D/4 output columns. The K and V tiles pass through one
// shared array. No subgroup operations: any subgroup size.
//
// Q and O rows [sample][query][heads*D] may be bound from a first query row (pc.firstQuery:
// that row's index in its sample); K and V [sample][key][kvHeads*D] are bound from key 0 of
// the dispatch's first sample. x: query block, y: sample * heads + head.
layout(local_size_x = 128) in;

layout(constant_id = 0) const uint D = 128;  // head dim: a multiple of 16, at most 128
layout(constant_id = 1) const uint BK = 32;  // keys per tile: a multiple of 4

layout(push_constant) uniform Params {
    uint queries;     // query rows bound per sample
    uint keys;        // keys per sample
    uint firstQuery;  // the sample's row of bound query row 0
    uint offset;      // position of the sample's query row 0 (keys - its queries)
    uint heads, kvHeads;
    uint blocks;      // query blocks per (sample, head)
    float scale;      // 1 / sqrt(D)
} pc;

layout(std430, binding = 0) readonly buffer QBuf { vec4 Q[]; };
layout(std430, binding = 1) readonly buffer KBuf { vec4 K[]; };
layout(std430, binding = 2) readonly buffer VBuf { vec4 V[]; };
layout(std430, binding = 3) writeonly buffer OBuf { vec4 O[]; };

const uint BQ = 32;          // query rows per workgroup (vk_attention.cpp kQueryRows)
const uint D4 = D / 4;
const uint ROW = D4 + 1;     // a shared row of vec4, padded: rows start in different banks
const uint SC = BK / 4;      // scores per thread per tile
const uint OC = D / 16;      // output vec4 per thread
const uint PROW = BK + 1;
const float NEG = -1.0e30;   // masked score: exp(NEG - m) == 0 for any real maximum m

shared vec4 Qs[BQ * ROW];
shared vec4 KVs[BK * ROW];
shared float Ps[BQ * PROW];
shared float redMax[BQ * 4];
shared float redSum[BQ * 4];

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint r = tid / 4, part = tid % 4;
    const uint qb = pc.blocks - 1 - gl_WorkGroupID.x;  // the longest rows (late queries) first
    const uint smp = gl_WorkGroupID.y / pc.heads, h = gl_WorkGroupID.y % pc.heads;
    const uint kvh = h / (pc.heads / pc.kvHeads);
    const uint q0 = qb * BQ;
    const uint qRow = pc.heads * D4, kvRow = pc.kvHeads * D4;  // vec4 per row
    const uint qBase = smp * pc.queries * qRow + h * D4;
    const uint kvBase = smp * pc.keys * kvRow + kvh * D4;

    for (uint e = tid; e < BQ * D4; e += 128) {
        const uint rr = e / D4, d = e % D4;
        Qs[rr * ROW + d] = q0 + rr < pc.queries ? Q[qBase + (q0 + rr) * qRow + d] : vec4(0.0);
    }
    // This row's position (rows past the end take the last real one: their keys are valid).
    const uint last = min(q0 + BQ, pc.queries) - 1;
    const uint pos = pc.offset + pc.firstQuery + min(q0 + r, last);
    const uint tiles = (pc.offset + pc.firstQuery + last) / BK + 1;

    vec4 acc[OC];
    for (uint i = 0; i < OC; ++i)
        acc[i] = vec4(0.0);
    float m = NEG, l = 0.0;

    for (uint kt = 0; kt < tiles; ++kt) {
        const uint k0 = kt * BK;
        for (uint e = tid; e < BK * D4; e += 128) {
            const uint c = e / D4, d = e % D4;
            KVs[c * ROW + d] = k0 + c < pc.keys ? K[kvBase + (k0 + c) * kvRow + d] : vec4(0.0);
        }
        barrier();  // Q (first tile) and K in shared memory
        float s[SC];
        for (uint j = 0; j < SC; ++j)
            s[j] = 0.0;
        for (uint d = 0; d < D4; ++d) {
            const vec4 qv = Qs[r * ROW + d];
            for (uint j = 0; j < SC; ++j)
                s[j] += dot(qv, KVs[(part + 4 * j) * ROW + d]);
        }
        float mx = NEG;
        for (uint j = 0; j < SC; ++j) {
            s[j] = k0 + part + 4 * j <= pos ? s[j] * pc.scale : NEG;
            mx = max(mx, s[j]);
        }
        redMax[r * 4 + part] = mx;
        barrier();  // K read by all; the row's partial maxima written
        for (uint e = tid; e < BK * D4; e += 128) {
            const uint c = e / D4, d = e % D4;
            KVs[c * ROW + d] = k0 + c < pc.keys ? V[kvBase + (k0 + c) * kvRow + d] : vec4(0.0);
        }
        const float mNew = max(m, max(max(redMax[r * 4], redMax[r * 4 + 1]), max(redMax[r * 4 + 2], redMax[r * 4 + 3])));
        const float alpha = exp(m - mNew);  // 0 on the first tile: key 0 is visible to every row
        float sum = 0.0;
        for (uint j = 0; j < SC; ++j) {
            const float p = exp(s[j] - mNew);
            Ps[r * PROW + part + 4 * j] = p;
            sum += p;
        }
        redSum[r * 4 + part] = sum;
        m = mNew;
        barrier();  // V, the probabilities and the partial sums written
        l = l * alpha + ((redSum[r * 4] + redSum[r * 4 + 1]) + (redSum[r * 4 + 2] + redSum[r * 4 + 3]));
        for (uint i = 0; i < OC; ++i)
            acc[i] *= alpha;
        for (uint c = 0; c < BK; ++c) {
            const float p = Ps[r * PROW + c];
            for (uint i = 0; i < OC; ++i)
                acc[i] += p * KVs[c * ROW + part + 4 * i];
        }
        barrier();  // before the next tile overwrites K/V, the probabilities and the partials
    }
    if (q0 + r < pc.queries) {
        const float inv = 1.0 / l;
        const uint o = qBase + (q0 + r) * qRow + part;
        for (uint i = 0; i < OC; ++i)
            O[o + 4 * i] = acc[i] * inv;
    }
}
