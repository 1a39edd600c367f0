#!/usr/bin/env python3
"""Independent check of the HF packed layouts the project writes.

Reads the file make_hf_pack_samples writes (packed GPTQ / AWQ / bitsandbytes-NF4 linears plus
the f32 weight each must dequantize to) with nothing but the safetensors header format and
numpy, unpacks every case the way the reference projects' own code does:
  GPTQ: AutoGPTQ QuantLinear.forward (wf shifts; the 3-bit word-straddling fix-ups; zeros + 1
        for checkpoint_format gptq, as is for gptq_v2; scales[g_idx] * (w - zeros[g_idx]))
  AWQ:  AutoAWQ packing_utils.dequantize_gemm (unpack_awq, reverse_awq_order, (w - z) * s)
  NF4:  bitsandbytes dequantize_4bit (high nibble first, quant_map[code] * absmax[i // 64],
        nested absmax = nested_quant_map[q] * nested_absmax[b // 256] + nested_offset)
and compares with the expected weights. GPTQ, AWQ and plain NF4 must match exactly; double-quantized
NF4 within 2 ulp of max|w|, because the project's build (x86-64-v3) fuses the absmax
reconstruction q * scale + offset into one FMA where numpy rounds twice (measured on the device
machine, 2026-11-23: 8 cases exact, nf4_dq 1.19e-07 = 1 ulp). Exit status 0 when all pass.
Usage: check_hf_layouts.py SAMPLES.safetensors
"""
import json
import struct
import sys

import numpy as np

DT = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "U8": np.uint8, "I8": np.int8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype=DT[t["dtype"]]).reshape(t["shape"])
        out[name] = arr
    return out, meta


def gptq_dequant(qweight, qzeros, scales, g_idx, bits, v2):
    mask = (1 << bits) - 1
    if bits in (2, 4, 8):
        wf = np.arange(0, 32, bits, dtype=np.int32)
        zeros = (qzeros[:, :, None] >> wf[None, None, :]) & mask
        zeros = zeros.reshape(scales.shape)
        weight = (qweight[:, None, :] >> wf[None, :, None]) & mask
        weight = weight.reshape(weight.shape[0] * weight.shape[1], weight.shape[2])
    else:
        wf = np.array([[0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0],
                       [0, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31],
                       [0, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0]], dtype=np.int32).reshape(1, 3, 12)
        z = np.broadcast_to(qzeros.reshape(qzeros.shape[0], qzeros.shape[1] // 3, 3, 1),
                            (qzeros.shape[0], qzeros.shape[1] // 3, 3, 12))
        z = (z >> wf[None]).copy()
        z[:, :, 0, 10] = (z[:, :, 0, 10] & 0x3) | ((z[:, :, 1, 0] << 2) & 0x4)
        z[:, :, 1, 11] = (z[:, :, 1, 11] & 0x1) | ((z[:, :, 2, 0] << 1) & 0x6)
        z = z & 0x7
        zeros = np.concatenate([z[:, :, 0, :11], z[:, :, 1, 1:12], z[:, :, 2, 1:11]], axis=2).reshape(scales.shape)
        w = np.broadcast_to(qweight.reshape(qweight.shape[0] // 3, 3, 1, qweight.shape[1]),
                            (qweight.shape[0] // 3, 3, 12, qweight.shape[1]))
        w = (w >> wf[..., None]).copy() & 0x7
        w[:, 0, 10] = (w[:, 0, 10] & 0x3) | ((w[:, 1, 0] << 2) & 0x4)
        w[:, 1, 11] = (w[:, 1, 11] & 0x1) | ((w[:, 2, 0] << 1) & 0x6)
        w = w & 0x7
        weight = np.concatenate([w[:, 0, :11], w[:, 1, 1:12], w[:, 2, 1:11]], axis=1)
        weight = weight.reshape(weight.shape[0] * weight.shape[1], weight.shape[2])
    if not v2:
        zeros = zeros + 1
    g = g_idx.astype(np.int64)
    s = scales.astype(np.float32)[g]
    dq = (weight - zeros[g]).astype(np.float32) * s  # [K][N]
    return dq.T


AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]


def awq_dequant(qweight, qzeros, scales, group_size):
    shifts = np.arange(0, 32, 4, dtype=np.int32)
    iw = (qweight[:, :, None] >> shifts[None, None, :]).reshape(qweight.shape[0], -1)
    iz = (qzeros[:, :, None] >> shifts[None, None, :]).reshape(qzeros.shape[0], -1)
    rev = np.arange(iz.shape[-1]).reshape(-1, 8)[:, AWQ_REVERSE_ORDER].reshape(-1)
    iw = iw[:, rev] & 15
    iz = iz[:, rev] & 15
    s = np.repeat(scales.astype(np.float32), group_size, axis=0)
    z = np.repeat(iz, group_size, axis=0)
    return ((iw - z).astype(np.float32) * s).T


def bnb_dequant(t, prefix):
    state = json.loads(bytes(t[prefix + ".quant_state.bitsandbytes__nf4"]).decode("utf-8"))
    assert state["quant_type"] == "nf4", state
    packed = t[prefix].reshape(-1)
    codes = np.empty(packed.size * 2, dtype=np.uint8)
    codes[0::2] = packed >> 4
    codes[1::2] = packed & 0xF
    n = int(np.prod(state["shape"]))
    codes = codes[:n]
    absmax = t[prefix + ".absmax"]
    if prefix + ".nested_absmax" in t:
        nb = state["nested_blocksize"]
        idx = np.arange(absmax.size) // nb
        absmax = t[prefix + ".nested_quant_map"][absmax] * t[prefix + ".nested_absmax"][idx]
        absmax = absmax + np.float32(state["nested_offset"])
    blocks = np.arange(n) // state["blocksize"]
    return (t[prefix + ".quant_map"][codes] * absmax[blocks]).reshape(state["shape"])


def main(path):
    t, meta = read_safetensors(path)
    cases = json.loads(meta["cases"])
    failed = 0
    for name, c in cases.items():
        expected = t[name + ".expected"]
        if c["format"] == "gptq":
            got = gptq_dequant(t[name + ".qweight"], t[name + ".qzeros"], t[name + ".scales"], t[name + ".g_idx"],
                               c["bits"], c["v2"])
        elif c["format"] == "awq":
            got = awq_dequant(t[name + ".qweight"], t[name + ".qzeros"], t[name + ".scales"], c["group_size"])
        else:
            got = bnb_dequant(t, name + ".weight")
        diff = float(np.max(np.abs(got.astype(np.float32) - expected))) if got.shape == expected.shape else float("inf")
        tol = 0.0
        if c["format"] == "bnb-nf4" and name + ".weight.nested_absmax" in t:
            tol = 2.0 * float(np.spacing(np.float32(np.max(np.abs(expected)))))
        ok = diff <= tol
        failed += 0 if ok else 1
        print(f"{name:28s} shape {tuple(expected.shape)}  max|reference unpack - expected| = {diff:.3g}  "
              f"{'OK' if ok else 'MISMATCH'}{'' if tol == 0 else f' (tolerance {tol:.3g})'}")
    print(f"{len(cases) - failed} of {len(cases)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
