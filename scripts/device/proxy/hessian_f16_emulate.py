#!/usr/bin/env python3
# Pure-Python emulation of shaders/hessian_f16.comp (one workgroup at a time): the uvec4 staging
# of X tiles in shared memory, coopMatLoadNV's offsets and strides (in uvec4 units, A column-major,
# B row-major), the double-buffer order, and the symmetric epilogue (tiles on and above the
# diagonal, each also adding its transpose), against H0 + X16^T X16 in double precision.
import random, struct, math, sys
def f16(x): return struct.unpack('e', struct.pack('e', x))[0]

def run(M, K, WN, sym, iBase=0, iRows=None):
    R = random.Random()
    iRows = K if iRows is None else iRows
    X = [[f16(R.gauss(0, 1)) for _ in range(K)] for _ in range(M)]  # to_half.comp's output
    H0 = [[R.gauss(0, 1) for _ in range(K)] for _ in range(K)]
    H = [row[:] for row in H0]
    T, BK = 128, 32
    SA = T // 8 + 1
    THREADS = 32 * 2 * (T // WN)
    LOADS = BK * (T // 8) // THREADS
    ntj = (K + T - 1) // T; nti = (iRows + T - 1) // T
    for ty in range(nti):
        for tx in range(ntj):
            i0, j0 = ty * T, tx * T
            if sym and j0 < i0:
                continue
            # shared memory as lists of 8-half groups
            Xi = [[[0.0] * 8 for _ in range(BK * SA)] for _ in range(2)]
            Xj = [[[0.0] * 8 for _ in range(BK * SA)] for _ in range(2)]
            def load_step(m0):
                ri, rj = {}, {}
                for tid in range(THREADS):
                    for l in range(LOADS):
                        e = tid + THREADS * l; r = e // (T // 8); c = e % (T // 8)
                        m = m0 + r; ci = iBase + i0 + 8 * c; cj = j0 + 8 * c
                        ri[(tid, l)] = X[m][ci:ci + 8] if (m < M and i0 + 8 * c < iRows) else [0.0] * 8
                        rj[(tid, l)] = X[m][cj:cj + 8] if (m < M and cj < K) else [0.0] * 8
                return ri, rj
            def store_step(buf, ri, rj):
                for tid in range(THREADS):
                    for l in range(LOADS):
                        e = tid + THREADS * l; r = e // (T // 8); c = e % (T // 8)
                        Xi[buf][r * SA + c] = ri[(tid, l)]; Xj[buf][r * SA + c] = rj[(tid, l)]
            def half_at(arr, idx):  # idx in halves over the uvec4 array
                return arr[idx // 8][idx % 8]
            def cm_load(arr, off4, stride4, col_major):
                # 16x16 f16 matrix; element (r, c)
                if col_major:
                    return [[half_at(arr, (off4 + c * stride4) * 8 + r) for c in range(16)] for r in range(16)]
                return [[half_at(arr, (off4 + r * stride4) * 8 + c) for c in range(16)] for r in range(16)]
            acc = {}
            NW = THREADS // 32
            ri, rj = load_step(0); store_step(0, ri, rj)
            buf = 0
            m0 = 0
            while m0 < M:
                more = m0 + BK < M
                if more: ri, rj = load_step(m0 + BK)
                for warp in range(NW):
                    wm, wn = warp // (T // WN), warp % (T // WN)
                    for kk in range(0, BK, 16):
                        fa = [cm_load(Xi[buf], kk * SA + (wm * 64 + a * 16) // 8, SA, True) for a in range(4)]
                        fb = [cm_load(Xj[buf], kk * SA + (wn * WN + b * 16) // 8, SA, False) for b in range(WN // 16)]
                        for a in range(4):
                            for b in range(WN // 16):
                                C = acc.setdefault((warp, a, b), [[0.0] * 16 for _ in range(16)])
                                A, B = fa[a], fb[b]
                                for r in range(16):
                                    Ar = A[r]
                                    for c in range(16):
                                        C[r][c] += sum(Ar[q] * B[q][c] for q in range(16))
                if more: store_step(buf ^ 1, ri, rj)
                buf ^= 1; m0 += BK
            mirror = sym and j0 != i0
            for (warp, a, b), C in acc.items():
                wm, wn = warp // (T // WN), warp % (T // WN)
                ri0 = i0 + wm * 64 + a * 16; rj0 = j0 + wn * WN + b * 16
                for r in range(16):
                    for c in range(16):
                        if ri0 + r < iRows and rj0 + c < K:
                            H[ri0 + r][rj0 + c] += C[r][c]
                        if mirror and ri0 + r < iRows and rj0 + c < K:
                            H[rj0 + c][ri0 + r] += C[r][c]
    num = den = 0.0
    for i in range(iRows):
        for j in range(K):
            ref = sum(X[m][iBase + i] * X[m][j] for m in range(M))
            got = H[i][j] - H0[i][j]
            num += (got - ref) ** 2; den += ref * ref
    return math.sqrt(num / den)

for args in [(40, 136, 32, True), (70, 136, 64, True), (33, 136, 32, False), (33, 136, 32, False, 128, 8)]:
    print(args, "err %.3g" % run(*args), flush=True)
