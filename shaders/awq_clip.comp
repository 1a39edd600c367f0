#version 450
// AWQ's clip search errors (Backend::awqClipErrors, CPU twin in compute/cpu/awq_clip_errors.cpp):
// workgroup (group g = x, ROWS rows = y) loops over the shrinks; per shrink it fake-quantizes its
// rows' group (clamp to +-orgMax * shrink, the group-wise grid of compute/group_grid.hpp rounded
// exactly as the CPU rounds) into D (shared, gs x ROWS, one float of padding per column), then
// P = D^T G_g with G_g staged in BK-row tiles (each thread TM rows x TN columns, f32 FMAs) and
// error = sum_j P_rj D_jr. The rounding needs f64 (exact products), so shaderFloat64.
// No subgroup operations: any subgroup size.
layout(local_size_x = 256) in;

layout(constant_id = 0) const uint GS = 128;   // group size: a multiple of 32, at most 128
layout(constant_id = 1) const uint ROWS = 32;  // weight rows per workgroup: 16, 32 or 64
// Tests only: ulps added to the device's quotients before they are settled exactly, standing in
// for a device whose division is a few ulp off (lavapipe's is exact).
layout(constant_id = 2) const int SKEW = 0;

const uint THREADS = 256;
const uint TM = ROWS / 8;   // rows per thread (8 thread rows)
const uint TN = GS / 32;    // columns per thread (32 thread columns, 32 apart)
const uint BK = 16;         // rows of G_g per shared tile
const uint LD = ROWS + 1;   // D's column stride: consecutive i land in different banks
const uint PARTS = THREADS / ROWS;  // threads per row for the min / max scan

layout(push_constant) uniform Params {
    uint rows;       // weight rows bound (this chunk)
    uint k;
    uint groups;
    uint steps;
    uint rowBase;    // the chunk's first row in E and M
    uint nTotal;     // rows of E's planes
    uint bits;
    uint symmetric;
} pc;

layout(std430, binding = 0) readonly buffer WBuf { float W[]; };   // [rows][k]
layout(std430, binding = 1) readonly buffer GBuf { float G[]; };   // [groups][GS][GS]
layout(std430, binding = 2) readonly buffer SBuf { float S[]; };   // [steps] shrinks
layout(std430, binding = 3) writeonly buffer EBuf { float E[]; };  // [steps][nTotal][groups]
layout(std430, binding = 4) writeonly buffer MBuf { float M[]; };  // [nTotal][groups]

shared float Ds[GS * LD];   // D (column r = row r's differences); then the error partials
shared float Gs[BK * GS];   // a tile of G_g; first the min / max scan's partials
shared float rowMin[ROWS], rowMax[ROWS], rowAbsMax[ROWS], rowClamp[ROWS], rowScale[ROWS], rowZero[ROWS];

// std::nearbyint(a / s) as the CPU computes it (IEEE quotient, then ties to even), s > 0 and
// |a / s| small. The device's a / s may be a few ulp off, so the half-integer h nearest to it is
// settled exactly: the correctly rounded quotient is below h iff a / s lies below the midpoint
// of h and the float under it (a < mid * s, exact in f64: 25 x 24 bits), above h likewise, and is
// h itself otherwise (h = j + 0.5 has few bits, so it is even and takes the ties).
float skewed(float q)
{
    return SKEW == 0 || abs(q) < 1e-30 ? q : uintBitsToFloat(uint(int(floatBitsToUint(q)) + SKEW));
}

float nearbyintQuotient(float a, float s)
{
    const float h = floor(skewed(a / s)) + 0.5;
    const uint hb = floatBitsToUint(h);
    const float under = uintBitsToFloat(h > 0.0 ? hb - 1u : hb + 1u);
    const float over = uintBitsToFloat(h > 0.0 ? hb + 1u : hb - 1u);
    const double ad = double(a), sd = double(s);
    precise const double below = (double(under) + double(h)) * 0.5LF * sd;
    precise const double above = (double(over) + double(h)) * 0.5LF * sd;
    if (ad < below)
        return h - 0.5;
    if (ad > above)
        return h + 0.5;
    return roundEven(h);
}

// r / maxq (r > 0, maxq odd) rounded as IEEE division: of the device's quotient and its
// neighbours, the float whose product with maxq (exact in f64) lies nearest r; no ties (odd maxq).
float quotientByMaxq(float r, float maxq)
{
    const float q0 = skewed(r / maxq);
    const double rd = double(r), md = double(maxq);
    float best = q0;
    double bestErr = abs(double(q0) * md - rd);
    for (int d = -4; d <= 4; ++d) {
        const float c = uintBitsToFloat(uint(int(floatBitsToUint(q0)) + d));
        precise const double e = abs(double(c) * md - rd);
        if (e < bestErr) {
            best = c;
            bestErr = e;
        }
    }
    return best;
}

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint g = gl_WorkGroupID.x;
    const uint row0 = gl_WorkGroupID.y * ROWS;
    const uint col0 = g * GS;
    const uint gBase = g * GS * GS;
    const uint maxq = (1u << pc.bits) - 1u;
    const float maxqF = float(maxq);

    // Each row's min and max over the group (PARTS threads per row).
    {
        const uint r = tid / PARTS, p = tid % PARTS;
        float mn = 0.0, mx = 0.0;
        if (row0 + r < pc.rows) {
            mn = W[(row0 + r) * pc.k + col0 + p];
            mx = mn;
            for (uint i = p + PARTS; i < GS; i += PARTS) {
                const float v = W[(row0 + r) * pc.k + col0 + i];
                mn = min(mn, v);
                mx = max(mx, v);
            }
        }
        Gs[tid] = mn;
        Gs[THREADS + tid] = mx;
    }
    barrier();
    if (tid < ROWS) {
        float mn = Gs[tid * PARTS], mx = Gs[THREADS + tid * PARTS];
        for (uint p = 1; p < PARTS; ++p) {
            mn = min(mn, Gs[tid * PARTS + p]);
            mx = max(mx, Gs[THREADS + tid * PARTS + p]);
        }
        rowMin[tid] = mn;
        rowMax[tid] = mx;
        rowAbsMax[tid] = max(abs(mn), abs(mx));
        if (row0 + tid < pc.rows)
            M[(pc.rowBase + row0 + tid) * pc.groups + g] = rowAbsMax[tid];
    }

    const uint ty = tid / 32, tx = tid % 32;
    for (uint s = 0; s < pc.steps; ++s) {
        barrier();  // the previous step's partials are read; the scan's partials too
        // Each row's clamp, scale and zero (compute/group_grid.hpp on the clamped group: its
        // min and max are the clamped min and max).
        if (tid < ROWS) {
            precise const float m = rowAbsMax[tid] * S[s];
            float lo = min(0.0, clamp(rowMin[tid], -m, m));
            float hi = max(0.0, clamp(rowMax[tid], -m, m));
            float scale, zero;
            if (pc.symmetric != 0u) {
                const float a = max(-lo, hi);
                lo = a > 0.0 ? -a : -1.0;
                hi = a > 0.0 ? a : 1.0;
                precise const float range = hi - lo;
                scale = quotientByMaxq(range, maxqF);
                zero = float((maxq + 1u) / 2u);
            } else {
                if (lo == 0.0 && hi == 0.0) {
                    lo = -1.0;
                    hi = 1.0;
                }
                precise const float range = hi - lo;
                scale = quotientByMaxq(range, maxqF);
                zero = nearbyintQuotient(-lo, scale);
            }
            rowClamp[tid] = m;
            rowScale[tid] = scale;
            rowZero[tid] = zero;
        }
        barrier();
        // D = w - dequant(quant(clamp(w))) (adjacent threads read adjacent columns).
        for (uint e = tid; e < ROWS * GS; e += THREADS) {
            const uint r = e / GS, i = e % GS;
            float d = 0.0;
            if (row0 + r < pc.rows) {
                const float w = W[(row0 + r) * pc.k + col0 + i];
                const float m = rowClamp[r], scale = rowScale[r], zero = rowZero[r];
                const float v = clamp(w, -m, m);
                const float code = clamp(nearbyintQuotient(v, scale) + zero, 0.0, maxqF);
                precise const float q = (code - zero) * scale;
                precise const float diff = w - q;
                d = diff;
            }
            Ds[i * LD + r] = d;
        }
        // P = D^T G_g for rows ty * TM + a, columns tx + 32 c.
        float acc[TM][TN];
        for (uint a = 0; a < TM; ++a)
            for (uint c = 0; c < TN; ++c)
                acc[a][c] = 0.0;
        for (uint i0 = 0; i0 < GS; i0 += BK) {
            barrier();  // D written; the previous tile read
            for (uint e = tid; e < BK * GS; e += THREADS)
                Gs[e] = G[gBase + i0 * GS + e];
            barrier();
            for (uint ii = 0; ii < BK; ++ii) {
                float av[TM], bv[TN];
                for (uint a = 0; a < TM; ++a)
                    av[a] = Ds[(i0 + ii) * LD + ty * TM + a];
                for (uint c = 0; c < TN; ++c)
                    bv[c] = Gs[ii * GS + tx + 32 * c];
                for (uint a = 0; a < TM; ++a)
                    for (uint c = 0; c < TN; ++c)
                        acc[a][c] = fma(av[a], bv[c], acc[a][c]);
            }
        }
        // error_r = sum_j P_rj D_jr: partials per thread column, summed in a fixed order.
        float part[TM];
        for (uint a = 0; a < TM; ++a) {
            float sum = 0.0;
            for (uint c = 0; c < TN; ++c)
                sum = fma(acc[a][c], Ds[(tx + 32 * c) * LD + ty * TM + a], sum);
            part[a] = sum;
        }
        barrier();  // every read of D is done: its space takes the partials
        for (uint a = 0; a < TM; ++a)
            Ds[(ty * TM + a) * 33 + tx] = part[a];
        barrier();
        if (tid < ROWS && row0 + tid < pc.rows) {
            float sum = 0.0;
            for (uint x = 0; x < 32; ++x)
                sum += Ds[tid * 33 + x];
            E[(s * pc.nTotal + pc.rowBase + row0 + tid) * pc.groups + g] = sum;
        }
    }
}
