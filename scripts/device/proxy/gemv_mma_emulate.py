#!/usr/bin/env python3
# Pure-Python emulation of shaders/gemv_mma.comp + gemv_xprep.comp, lane by lane, with the m16n8k16
# fragment layout, against a plain dequantized reference (checks index and nibble-order logic).
import random, struct, math
def f16(x): return struct.unpack('e', struct.pack('e', x))[0]
def f32(x): return struct.unpack('f', struct.pack('f', x))[0]

def run(N, K, M, gs, asym, mode, xlo, warps, rt):
    R = random.Random()
    blocks = K // 128; groups = K // gs
    codes = [[R.getrandbits(32) for _ in range(K // 8)] for _ in range(N)]
    S = [[f32(R.random() * 0.01 + 0.001) for _ in range(groups)] for _ in range(N)]
    Z = [[float(R.randrange(16)) for _ in range(groups)] for _ in range(N)]
    X = [[f32(R.gauss(0, 1)) for _ in range(K)] for _ in range(M)]
    def code(n, k): return (codes[n][k // 8] >> (4 * (k % 8))) & 15
    ref = [[sum(X[b][k] * (code(n, k) - (Z[n][k // gs] if asym else 8.0)) * S[n][k // gs] for k in range(K)) for n in range(N)] for b in range(M)]
    hi = {}; lo = {}; Xs = {}
    order = [0, 4, 2, 6, 1, 5, 3, 7]
    for b in range(M):
        for blk in range(blocks):
            Xs[(b, blk)] = sum(X[b][blk*128:(blk+1)*128])
            for t in range(4):
                for w in range(4):
                    e = X[b][blk*128 + 32*t + 8*w: blk*128 + 32*t + 8*w + 8]
                    h = [f16(v) for v in e]; l = [f16(v - hv) for v, hv in zip(e, h)]
                    hi[(b, blk, t, w)] = [h[i] for i in order]; lo[(b, blk, t, w)] = [l[i] for i in order]
    Y = [[float('nan')] * N for _ in range(M)]
    for n0 in range(0, N, 16 * rt):
        for mbase in range(0, M, 8):
            yacc = {}
            for warp in range(warps):
                for blk in range(warp, blocks, warps):
                    grp = blk // (gs // 128)
                    for r in range(rt):
                        accA = [[0.0] * 8 for _ in range(16)]; accB = [[0.0] * 8 for _ in range(16)]
                        for w in range(4):
                            A0 = [[0.0] * 16 for _ in range(16)]; A1 = [[0.0] * 16 for _ in range(16)]
                            B0 = [[0.0] * 8 for _ in range(16)]; B1 = [[0.0] * 8 for _ in range(16)]
                            for lane in range(32):
                                g, t = lane // 4, lane % 4
                                ra = min(n0 + 16*r + g, N - 1); rb = min(n0 + 16*r + g + 8, N - 1)
                                va = codes[ra][blk*16 + t*4 + w]; vb = codes[rb][blk*16 + t*4 + w]
                                def pair(v, shift, hi_mask):
                                    v >>= shift
                                    if hi_mask: a, c, f = (v >> 4) & 15, (v >> 20) & 15, 16.0
                                    else: a, c, f = v & 15, (v >> 16) & 15, 1.0
                                    if mode == 0: return ((1024 + f*a) - (1024 + 8*f), (1024 + f*c) - (1024 + 8*f))
                                    return (f*a*2.0**-24, f*c*2.0**-24)
                                p0, p0b, p2, p2b = pair(va, 0, 0), pair(vb, 0, 0), pair(va, 8, 0), pair(vb, 8, 0)
                                p1, p1b, p3, p3b = pair(va, 0, 1), pair(vb, 0, 1), pair(va, 8, 1), pair(vb, 8, 1)
                                a0 = [p0[0], p0[1], p0b[0], p0b[1], p2[0], p2[1], p2b[0], p2b[1]]
                                a1 = [p1[0], p1[1], p1b[0], p1b[1], p3[0], p3[1], p3b[0], p3b[1]]
                                for e in range(8):
                                    row = g + 8 * ((e // 2) % 2); kk = 2*t + (e % 2) + 8 * (e // 4)
                                    A0[row][kk] = a0[e]; A1[row][kk] = a1[e]
                                if mbase + g < M:
                                    for src in ([hi, lo] if xlo else [hi]):
                                        xv = src[(mbase + g, blk, t, w)]
                                        for e in range(4):
                                            kk = 2*t + (e % 2) + 8 * (e // 2)
                                            B0[kk][g] += xv[e]; B1[kk][g] += xv[4 + e]
                            for i in range(16):
                                for j in range(8):
                                    accA[i][j] += sum(A0[i][kk] * B0[kk][j] for kk in range(16))
                                    accB[i][j] += sum(A1[i][kk] * B1[kk][j] for kk in range(16))
                        unitA = 1.0 if mode == 0 else 2.0**24; unitB = unitA / 16; zs = 0.0 if mode == 0 else 8.0
                        for lane in range(32):
                            g, t = lane // 4, lane % 4
                            ra = min(n0 + 16*r + g, N - 1); rb = min(n0 + 16*r + g + 8, N - 1)
                            for e in range(4):
                                row = g + 8 * (e // 2); col = 2*t + (e % 2)
                                rr = ra if e < 2 else rb
                                s_ = S[rr][grp]; z_ = (Z[rr][grp] - 8 + zs) if asym else zs
                                xs = Xs[(mbase + col, blk)] if mbase + col < M else 0.0
                                key = (r, lane, e)
                                yacc[key] = yacc.get(key, 0.0) + s_ * (accA[row][col]*unitA + accB[row][col]*unitB - z_*xs)
            for (r, lane, e), v in yacc.items():
                g, t = lane // 4, lane % 4
                row = n0 + 16*r + g + 8*(e // 2); col = 2*t + (e % 2)
                if row < N and mbase + col < M:
                    Y[mbase + col][row] = v
    num = sum((Y[b][n] - ref[b][n])**2 for b in range(M) for n in range(N))
    den = sum(ref[b][n]**2 for b in range(M) for n in range(N))
    return math.sqrt(num / den)

for args in [(20, 256, 1, 128, False, 0, True, 2, 1), (40, 256, 3, 128, True, 0, True, 4, 2), (24, 256, 9, 128, True, 1, True, 1, 1),
             (20, 256, 2, 128, True, 0, False, 2, 2), (17, 512, 1, 256, True, 0, True, 3, 1)]:
    print(args, "err %.3g" % run(*args), flush=True)
