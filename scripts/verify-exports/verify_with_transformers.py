#!/usr/bin/env python3
"""Independent check of QuantScope's exports: load each exported folder/file with Hugging Face
transformers (and the quantization backends it uses, where installed) and compute perplexity on the
demo evaluation text with the same protocol as `quantscope-cli eval` (non-overlapping windows of
CTX tokens, no BOS, first token of each window is context only).

Where transformers cannot load a format because its backend package is not installed, the
weights are dequantized here with numpy/torch code written from the formats' published layouts
(AutoGPTQ v1 packing, AutoAWQ GEMM packing, bitsandbytes NF4, compressed-tensors int8) and loaded
into a plain LlamaForCausalLM: an implementation independent of the project's C++ readers.

usage: verify_with_transformers.py --original DIR --text FILE --ctx 256 --windows 16 NAME=PATH ...
prints one JSON line per model: {"name", "loader", "ppl", "windows"}.
"""
import argparse
import importlib
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from safetensors.numpy import load_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM

DEV = "cuda" if torch.cuda.is_available() else "cpu"


def have(mod):
    try:
        importlib.import_module(mod)
        return True
    except Exception:
        return False


@torch.no_grad()
def perplexity(model, ids, ctx, windows):
    n = min(windows, len(ids) // ctx)
    total, count = 0.0, 0
    for w in range(n):
        x = torch.tensor(ids[w * ctx:(w + 1) * ctx], device=DEV).unsqueeze(0)
        logits = model(x).logits.float()[0]
        logp = torch.log_softmax(logits[:-1], dim=-1)
        total -= logp.gather(1, x[0, 1:].unsqueeze(1)).sum().item()
        count += ctx - 1
    return math.exp(total / count), n


def folder_tensors(path):
    out = {}
    for f in sorted(os.listdir(path)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(path, f)))
    return out


def unpack_rows(words, bits):
    """int32 words packed along axis 0 (AutoGPTQ qweight): code j of word i at bit j*bits."""
    per = 32 // bits
    w = words.astype(np.uint32)
    parts = [(w >> (bits * j)) & ((1 << bits) - 1) for j in range(per)]
    stacked = np.stack(parts, axis=1)  # [K/per][per][N]
    return stacked.reshape(-1, w.shape[1])


def unpack_cols(words, bits):
    """int32 words packed along axis 1 (AutoGPTQ qzeros): code j of word i at bit j*bits."""
    per = 32 // bits
    w = words.astype(np.uint32)
    parts = [(w >> (bits * j)) & ((1 << bits) - 1) for j in range(per)]
    return np.stack(parts, axis=2).reshape(w.shape[0], -1)


def dequant_gptq(t, prefix, qc):
    bits = qc["bits"]
    assert 32 % bits == 0, "this check unpacks 2/4/8-bit GPTQ only"
    q = unpack_rows(t[prefix + ".qweight"], bits).astype(np.float32)          # [K][N]
    z = unpack_cols(t[prefix + ".qzeros"], bits).astype(np.float32)           # [G][N]
    if qc.get("checkpoint_format", "gptq") == "gptq":
        z = z + 1.0  # v1 stores zero - 1
    s = t[prefix + ".scales"].astype(np.float32)                               # [G][N]
    g = t[prefix + ".g_idx"].astype(np.int64)                                  # [K]
    w = (q - z[g]) * s[g]                                                      # [K][N]
    return w.T


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def dequant_awq(t, prefix, qc):
    gs = qc["group_size"]
    def unpack(words):
        w = words.astype(np.uint32)
        nib = np.stack([(w >> (4 * j)) & 15 for j in range(8)], axis=2)      # [R][C][8] nibble j
        out = np.empty_like(nib)
        for j, col in enumerate(AWQ_ORDER):  # nibble j holds column 8c + AWQ_ORDER[j]
            out[:, :, col] = nib[:, :, j]
        return out.reshape(w.shape[0], -1)
    q = unpack(t[prefix + ".qweight"]).astype(np.float32)                     # [K][N]
    z = unpack(t[prefix + ".qzeros"]).astype(np.float32)                      # [G][N]
    s = t[prefix + ".scales"].astype(np.float32)                               # [G][N]
    g = np.arange(q.shape[0]) // gs
    return ((q - z[g]) * s[g]).T


def dequant_nf4(t, prefix):
    state = json.loads(bytes(t[prefix + ".weight.quant_state.bitsandbytes__nf4"].tobytes()).decode())
    shape = state["shape"]
    bs = state["blocksize"]
    packed = t[prefix + ".weight"].reshape(-1)
    codes = np.empty(packed.size * 2, dtype=np.int64)
    codes[0::2] = packed >> 4  # first element in the high nibble
    codes[1::2] = packed & 15
    qmap = t[prefix + ".weight.quant_map"].astype(np.float32)
    if prefix + ".weight.nested_absmax" in t:
        nb = state["nested_blocksize"]
        a = t[prefix + ".weight.nested_quant_map"].astype(np.float32)[t[prefix + ".weight.absmax"].astype(np.int64)]
        na = t[prefix + ".weight.nested_absmax"].astype(np.float32)
        absmax = a * np.repeat(na, nb)[: a.size] + state["nested_offset"]
    else:
        absmax = t[prefix + ".weight.absmax"].astype(np.float32)
    n = shape[0] * shape[1]
    w = qmap[codes[:n]] * np.repeat(absmax, bs)[:n]
    return w.reshape(shape)


def dequant_int8(t, prefix):
    return t[prefix + ".weight"].astype(np.float32) * t[prefix + ".weight_scale"].astype(np.float32).reshape(-1, 1)


def load_dequantized(path, original):
    """A plain LlamaForCausalLM whose linears are the export's dequantized weights."""
    cfg = json.load(open(os.path.join(path, "config.json")))
    qc = cfg.get("quantization_config", {})
    method = qc.get("quant_method")
    t = folder_tensors(path)
    model = AutoModelForCausalLM.from_pretrained(original, dtype=torch.float32)
    sd = model.state_dict()
    new = {}
    for name in sd:
        if not name.endswith(".weight") or "proj" not in name:
            key = name
            if key in t:
                new[name] = torch.from_numpy(t[key].astype(np.float32))
            continue
        prefix = name[: -len(".weight")]
        if method == "gptq":
            w = dequant_gptq(t, prefix, qc)
        elif method == "awq":
            w = dequant_awq(t, prefix, qc)
        elif method == "bitsandbytes":
            w = dequant_nf4(t, prefix)
        elif method == "compressed-tensors":
            w = dequant_int8(t, prefix)
        else:
            raise SystemExit(f"{path}: unknown quant_method {method}")
        new[name] = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
    missing = [k for k in sd if k not in new]
    for k in missing:  # tied or absent tensors: keep the original's (reported)
        new[k] = sd[k]
    model.load_state_dict(new)
    return model.to(DEV).eval(), f"numpy-dequant({method}); kept from original: {missing}"


def load_gguf_numpy(path, original):
    """GGUF through gguf_numpy.py (spec-written reader + dequantizers), into a plain Llama."""
    import gguf_numpy
    reader, tensors = gguf_numpy.hf_state_dict(path)
    model = AutoModelForCausalLM.from_pretrained(original, dtype=torch.float32)
    sd = model.state_dict()
    missing = [k for k in sd if k not in tensors]
    extra = [k for k in tensors if k not in sd]
    if extra:
        raise SystemExit(f"{path}: tensors with no HF counterpart: {extra[:5]}")
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(tensors[k])) if k in tensors else sd[k]
                           for k in sd})
    vocab = Tokenizer.from_file(os.path.join(original, "tokenizer.json")).get_vocab()
    inv = {i: t for t, i in vocab.items()}
    same = all(inv.get(i) == t for i, t in enumerate(reader.kv["tokenizer.ggml.tokens"]))
    return model.to(DEV).eval(), f"numpy-gguf; vocab equal: {same}; kept from original: {missing}"


def load(name, path, original):
    if path.endswith(".gguf"):
        if have("gguf"):
            d, f = os.path.split(path)
            m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
            return m.to(DEV).eval(), "transformers-gguf"
        return load_gguf_numpy(path, original)
    cfg = json.load(open(os.path.join(path, "config.json")))
    method = cfg.get("quantization_config", {}).get("quant_method")
    backend = {"gptq": "gptqmodel", "awq": "awq", "bitsandbytes": "bitsandbytes",
               "compressed-tensors": "compressed_tensors"}.get(method)
    if method is None:
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(DEV).eval(), "transformers"
    if backend and have(backend):
        try:
            m = AutoModelForCausalLM.from_pretrained(path, device_map=DEV)
            return m.eval(), f"transformers+{backend}"
        except Exception as e:  # report and fall back
            print(json.dumps({"name": name, "native_load_error": str(e)[:300]}), flush=True)
    return load_dequantized(path, original)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--original", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    import transformers
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__,
                      "packages": {p: have(p) for p in ["gguf", "gptqmodel", "auto_gptq", "optimum", "awq",
                                                        "bitsandbytes", "compressed_tensors", "vllm"]}}), flush=True)
    ids = Tokenizer.from_file(os.path.join(a.original, "tokenizer.json")).encode(
        open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
    for spec in [f"original={a.original}"] + a.models:
        name, path = spec.split("=", 1)
        try:
            model, loader = load(name, path, a.original)
            ppl, n = perplexity(model, ids, a.ctx, a.windows)
            print(json.dumps({"name": name, "loader": loader, "ppl": round(ppl, 5), "windows": n}), flush=True)
            del model
        except Exception as e:
            print(json.dumps({"name": name, "error": f"{type(e).__name__}: {str(e)[:400]}"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
