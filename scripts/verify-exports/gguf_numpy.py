"""A small GGUF v3 reader and ggml block dequantizer in numpy, written from the GGUF spec and ggml's
reference dequantize_row_* routines, independent of QuantScope's C++ reader. Used by
verify_with_transformers.py when the `gguf` package (which transformers needs for GGUF) is absent.
Handles F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K."""
import struct

import numpy as np

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
BLOCK = {2: (32, 18), 3: (32, 20), 6: (32, 22), 8: (32, 34), 12: (256, 144), 14: (256, 210)}


class Reader:
    def __init__(self, path):
        self.b = open(path, "rb").read()
        self.p = 0
        assert self.take(4) == b"GGUF", f"{path}: not GGUF"
        self.version = self.u("<I")
        n_tensors, n_kv = self.u("<Q"), self.u("<Q")
        self.kv = {}
        for _ in range(n_kv):
            k = self.string()
            self.kv[k] = self.value(self.u("<I"))
        infos = []
        for _ in range(n_tensors):
            name = self.string()
            nd = self.u("<I")
            dims = [self.u("<Q") for _ in range(nd)]
            infos.append((name, dims, self.u("<I"), self.u("<Q")))
        align = self.kv.get("general.alignment", 32)
        start = (self.p + align - 1) // align * align
        self.tensors = {n: (dims, t, start + off) for n, dims, t, off in infos}

    def take(self, n):
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def u(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        return self.take(self.u("<Q")).decode("utf-8")

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.u("<I"), self.u("<Q")
            return [self.value(et) for _ in range(n)]
        return self.u(SCALAR[t])

    def tensor(self, name):
        dims, t, off = self.tensors[name]
        n = int(np.prod(dims))
        shape = list(reversed(dims))  # ne[0] is the fastest (columns)
        if t in (0, 1, 30):
            size = {0: 4, 1: 2, 30: 2}[t]
            raw = np.frombuffer(self.b, dtype={0: "<f4", 1: "<f2", 30: "<u2"}[t], count=n, offset=off)
            if t == 30:
                raw = (raw.astype(np.uint32) << 16).view(np.float32)
            return raw.astype(np.float32).reshape(shape)
        per, nbytes = BLOCK[t]
        blocks = np.frombuffer(self.b, dtype=np.uint8, count=n // per * nbytes, offset=off).reshape(-1, nbytes)
        return DEQUANT[t](blocks).reshape(shape)


def f16(a):
    return np.ascontiguousarray(a).view("<f2").astype(np.float32)


def q4_0(b):
    d = f16(b[:, 0:2])
    qs = b[:, 2:18]
    q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) - 8
    return q * d


def q4_1(b):
    d, m = f16(b[:, 0:2]), f16(b[:, 2:4])
    qs = b[:, 4:20]
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) * d + m


def q5_0(b):
    d = f16(b[:, 0:2])
    qh = np.ascontiguousarray(b[:, 2:6]).view("<u4").astype(np.uint32)  # [B,1]
    qs = b[:, 6:22].astype(np.uint32)
    j = np.arange(16, dtype=np.uint32)
    h0 = ((qh >> j) << 4) & 0x10
    h1 = (qh >> (j + 12)) & 0x10
    x0 = ((qs & 15) | h0).astype(np.float32) - 16
    x1 = ((qs >> 4) | h1).astype(np.float32) - 16
    return np.concatenate([x0, x1], axis=1) * d


def q8_0(b):
    d = f16(b[:, 0:2])
    return np.ascontiguousarray(b[:, 2:34]).view(np.int8).astype(np.float32) * d


def scale_min_k4(j, q):
    if j < 4:
        return q[:, j] & 63, q[:, j + 4] & 63
    return (q[:, j + 4] & 15) | ((q[:, j - 4] >> 6) << 4), (q[:, j + 4] >> 4) | ((q[:, j] >> 6) << 4)


def q4_k(b):
    d, dmin = f16(b[:, 0:2])[:, 0], f16(b[:, 2:4])[:, 0]
    sc = b[:, 4:16].astype(np.int32)
    qs = b[:, 16:144]
    out = np.empty((b.shape[0], 256), dtype=np.float32)
    for i in range(4):  # 64 values per step: low nibbles then high nibbles of 32 bytes
        q = qs[:, 32 * i:32 * i + 32]
        s1, m1 = scale_min_k4(2 * i, sc)
        s2, m2 = scale_min_k4(2 * i + 1, sc)
        out[:, 64 * i:64 * i + 32] = (d * s1)[:, None] * (q & 15) - (dmin * m1)[:, None]
        out[:, 64 * i + 32:64 * i + 64] = (d * s2)[:, None] * (q >> 4) - (dmin * m2)[:, None]
    return out


def q6_k(b):
    ql, qh = b[:, 0:128].astype(np.int32), b[:, 128:192].astype(np.int32)
    sc = np.ascontiguousarray(b[:, 192:208]).view(np.int8).astype(np.float32)
    d = f16(b[:, 208:210])[:, 0]
    out = np.empty((b.shape[0], 256), dtype=np.float32)
    for h in range(2):  # two halves of 128
        l_ = ql[:, 64 * h:64 * h + 64]
        hh = qh[:, 32 * h:32 * h + 32]
        s = sc[:, 8 * h:8 * h + 8]
        q1 = ((l_[:, :32] & 15) | ((hh & 3) << 4)) - 32
        q2 = ((l_[:, 32:] & 15) | (((hh >> 2) & 3) << 4)) - 32
        q3 = ((l_[:, :32] >> 4) | (((hh >> 4) & 3) << 4)) - 32
        q4 = ((l_[:, 32:] >> 4) | (((hh >> 6) & 3) << 4)) - 32
        for k, q in enumerate([q1, q2, q3, q4]):
            scl = np.repeat(s[:, 2 * k:2 * k + 2], 16, axis=1)  # is = l / 16
            out[:, 128 * h + 32 * k:128 * h + 32 * k + 32] = d[:, None] * scl * q
    return out


DEQUANT = {2: q4_0, 3: q4_1, 6: q5_0, 8: q8_0, 12: q4_k, 14: q6_k}

HF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
            "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}


def unpermute(w, n_head):
    """Inverse of llama.cpp convert_hf_to_gguf's LlamaModel.permute for q/k rows."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_state_dict(path):
    r = Reader(path)
    heads, heads_kv = r.kv["llama.attention.head_count"], r.kv["llama.attention.head_count_kv"]
    sd = {}
    for name in r.tensors:
        w = r.tensor(name)
        if name == "token_embd.weight":
            sd["model.embed_tokens.weight"] = w
        elif name == "output_norm.weight":
            sd["model.norm.weight"] = w
        elif name == "output.weight":
            sd["lm_head.weight"] = w
        else:
            _, i, kind, _ = name.split(".")
            if kind == "attn_q":
                w = unpermute(w, heads)
            elif kind == "attn_k":
                w = unpermute(w, heads_kv)
            sd[f"model.layers.{i}.{HF_NAMES[kind]}.weight"] = w
    return r, sd
