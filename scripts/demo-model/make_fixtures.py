#!/usr/bin/env python3
"""Reference fixtures from transformers / tokenizers for QuantScope's tests.

Run on a machine with torch, transformers (5.x) and tokenizers, from the repository root:
  PYTHONUNBUFFERED=1 python3 scripts/demo-model/make_fixtures.py --out tests/fixtures
Parts can be chosen with --parts models,ppl,tokenizers (default: all).
See tests/fixtures/README.md for what each file holds.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
import transformers
from transformers import (AutoModelForCausalLM, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import TF_MAJOR, rope_kwargs, save_kwargs  # noqa: E402
import tokenizer_cases  # noqa: E402

INPUT_IDS = [1, 17, 200, 45, 3, 99, 255, 128, 7, 64, 33, 190, 12, 250, 5, 77, 140, 2, 91, 60]
LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def dtype_kw(dt):
    return {"dtype": dt} if TF_MAJOR >= 5 else {"torch_dtype": dt}


def base(**kw):
    d = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
             rms_norm_eps=1e-5, initializer_range=0.15, tie_word_embeddings=False,
             bos_token_id=1, eos_token_id=2, hidden_act="silu")
    d.update(kw)
    return d


def tiny_cases():
    return [
        ("llama", LlamaConfig, base(**rope_kwargs(10000.0)), {}),
        ("mistral", MistralConfig, base(rms_norm_eps=1e-6, sliding_window=4096, **rope_kwargs(1000000.0)), {}),
        ("qwen2", Qwen2Config, base(rms_norm_eps=1e-6, **rope_kwargs(1000000.0)), {}),
        ("qwen3", Qwen3Config, base(rms_norm_eps=1e-6, head_dim=32, attention_bias=False,
                                    **rope_kwargs(1000000.0)), {}),
        ("llama-tied", LlamaConfig, base(tie_word_embeddings=True, num_key_value_heads=4,
                                         **rope_kwargs(10000.0)), {}),
        ("llama31-rope", LlamaConfig, base(num_key_value_heads=1, max_position_embeddings=131072,
                                           **rope_kwargs(500000.0, {
                                               "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                               "high_freq_factor": 4.0,
                                               # small on purpose: with 8192 the scaled bands turn
                                               # so slowly that 20 positions barely see them
                                               "original_max_position_embeddings": 64})), {}),
        ("llama-sharded", LlamaConfig, base(**rope_kwargs(10000.0)), {"max_shard_size": 60000}),
    ]


def capture(model, input_ids):
    """Run the model once; return dict of f32 tensors (batch dimension dropped)."""
    out = {}
    hooks = []
    inner = model.model

    def first(o):
        return o[0] if isinstance(o, (tuple, list)) else o

    # Forward hooks must return None (a returned value would replace the module's output).
    def put(key, t):
        out[key] = t.detach().clone()

    def on_embed(m, i, o):
        put("embed", first(o)[0])

    def on_layer(li):
        def f(m, i, o):
            put(f"hidden.{li}", first(o)[0])
        return f

    def on_norm(m, i, o):
        put("norm", first(o)[0])

    def on_linear(name):
        def f(m, i, o):
            put(f"block0.{name}.input", i[0][0])
            put(f"block0.{name}.output", o[0])
        return f

    hooks.append(inner.embed_tokens.register_forward_hook(on_embed))
    for li, layer in enumerate(inner.layers):
        hooks.append(layer.register_forward_hook(on_layer(li)))
    hooks.append(inner.norm.register_forward_hook(on_norm))
    blk = inner.layers[0]
    mods = dict(blk.named_modules())
    for name in LINEARS:
        full = [k for k in mods if k.endswith(name)]
        assert len(full) == 1, (name, full)
        hooks.append(mods[full[0]].register_forward_hook(on_linear(name)))
    with torch.no_grad():
        logits = model(input_ids=input_ids[None], use_cache=False).logits
    for h in hooks:
        h.remove()
    out["logits"] = logits[0].detach().clone()
    return {k: v.float().contiguous() for k, v in out.items()}


def make_models(outdir):
    manifest = {}
    ids = torch.tensor(INPUT_IDS, dtype=torch.long)
    for i, (case, cls, kw, save_extra) in enumerate(tiny_cases()):
        torch.manual_seed(1000 + i)
        cfg = cls(**kw)
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
        model = model.float().eval()
        # HF initialises RMSNorm weights to 1 and biases to 0, which would make those tensors
        # untestable: perturb them (seeded) so that a reader that skips them fails.
        with torch.no_grad():
            g = torch.Generator().manual_seed(2000 + i)
            for n, p in model.named_parameters():
                if n.endswith("norm.weight"):
                    p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
                elif n.endswith(".bias"):
                    p.copy_(0.2 * torch.randn(p.shape, generator=g))
        d = os.path.join(outdir, case)
        os.makedirs(d, exist_ok=True)
        model.save_pretrained(d, **save_kwargs(), **save_extra)
        gold = capture(model, ids)
        # Reload from disk and check that the saved checkpoint reproduces the goldens.
        m2 = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager", **dtype_kw(torch.float32)).eval()
        g2 = capture(m2, ids)
        err = max((g2[k] - gold[k]).abs().max().item() for k in gold)
        assert err == 0.0, (case, err)
        extra = {}
        if case == "llama31-rope":
            # How much the llama3 scaling matters here: the same weights with plain RoPE.
            kw_plain = dict(kw)
            kw_plain.update(rope_kwargs(500000.0))
            plain = AutoModelForCausalLM.from_config(cls(**kw_plain), attn_implementation="eager").float().eval()
            plain.load_state_dict(model.state_dict())
            gp = capture(plain, ids)
            extra["logits_max_abs_diff_without_rope_scaling"] = (gp["logits"] - gold["logits"]).abs().max().item()
            print(f"  {case}: max |logit difference| with plain RoPE instead: "
                  f"{extra['logits_max_abs_diff_without_rope_scaling']:.4f}")
        tensors = {"input_ids": ids.clone()}
        tensors.update(gold)
        save_file(tensors, os.path.join(d, "golden.safetensors"), metadata={
            "generator": "scripts/demo-model/make_fixtures.py", "transformers": transformers.__version__,
            "torch": torch.__version__, "attn_implementation": "eager", "dtype": "float32", "device": "cpu"})
        files = sorted(os.listdir(d))
        nparams = sum(p.numel() for p in model.parameters())
        has_bias = any(n.endswith(".bias") for n, _ in model.named_parameters())
        manifest[case] = {"architecture": type(model).__name__, "files": files, "parameters": nparams,
                          "has_bias": has_bias, "tie_word_embeddings": bool(cfg.tie_word_embeddings),
                          "keys": {k: list(v.shape) for k, v in tensors.items()}, **extra}
        print(f"{case:14s} {type(model).__name__:20s} params {nparams:7d} files {files} "
              f"logits[0,:3] {gold['logits'][0,:3].tolist()}")
    return manifest


def make_ppl(outdir, model_dir, device):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    text = open(os.path.join(model_dir, "evaluation.txt"), encoding="utf-8").read()
    ids = tok.encode(text, add_special_tokens=False).ids
    res = {"model": model_dir, "text": os.path.join(model_dir, "evaluation.txt"),
           "text_bytes": len(text.encode("utf-8")), "tokens": len(ids),
           "tokenization": "tokenizers.Tokenizer.from_file(tokenizer.json).encode(text, add_special_tokens=False); no BOS",
           "protocol": ("non-overlapping windows of ctx tokens from the start; the last partial window is dropped; "
                        "each window is scored on its own (positions 0..ctx-1, no cache, no BOS); the first token "
                        "of each window is context only; NLL is summed over predictions of positions 1..ctx-1; "
                        "ppl = exp(total_nll / predicted_tokens)"),
           "transformers": transformers.__version__, "torch": torch.__version__,
           "attn_implementation": "eager", "tf32": False, "results": {}}
    for dt_name, dt in [("float32", torch.float32), ("float16", torch.float16), ("bfloat16", torch.bfloat16)]:
        model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="eager", **dtype_kw(dt))
        model = model.to(device).to(dt).eval()
        for ctx in (256, 512):
            n = len(ids) // ctx
            w = torch.tensor(ids[: n * ctx], dtype=torch.long).view(n, ctx).to(device)
            nll = []
            with torch.no_grad():
                for i in range(0, n, 8):
                    x = w[i : i + 8]
                    logits = model(input_ids=x, use_cache=False).logits.float()
                    l = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                        reduction="none").view(x.shape[0], -1).double().sum(-1)
                    nll.extend(l.tolist())
            total = math.fsum(nll)
            count = n * (ctx - 1)
            r = {"ctx": ctx, "windows": n, "tokens_used": n * ctx, "predicted_tokens": count,
                 "total_nll": total, "mean_nll": total / count, "ppl": math.exp(total / count)}
            if dt_name == "float32":
                r["window_nll"] = nll
            res["results"].setdefault(dt_name, {})[str(ctx)] = r
            print(f"ppl {dt_name:8s} ctx {ctx}: windows {n} predicted {count} mean nll {total/count:.5f} "
                  f"ppl {math.exp(total/count):.4f}")
        del model
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "ppl.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    return res


LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def train_bytelevel_llama3(train_text, vocab):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(train_text.split("\n\n"), trainer=trainer)
    j = json.loads(tok.to_str())
    j["model"]["ignore_merges"] = True  # as in Llama 3's tokenizer.json
    tok = Tokenizer.from_str(json.dumps(j))
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tok


def train_spm_bpe(train_text, vocab):
    """Llama-2/Mistral-style tokenizer.json: <unk> <s> </s>, 256 <0xXX> byte tokens, then BPE
    pieces with ▁ for spaces; normalizer prepends ▁ and replaces spaces; byte fallback."""
    specials = ["<unk>", "<s>", "</s>"]
    t = Tokenizer(models.BPE(unk_token="<unk>"))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab - 256, min_frequency=2, special_tokens=specials,
                                  limit_alphabet=120, show_progress=False)
    t.train_from_iterator([l for l in train_text.split("\n") if l.strip()], trainer=trainer)
    j = json.loads(t.to_str())
    old = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    newv = {s: i for i, s in enumerate(specials)}
    for b in range(256):
        newv[f"<0x{b:02X}>"] = len(newv)
    for s, _ in old:
        if s not in newv:
            newv[s] = len(newv)
    j["model"]["vocab"] = newv
    j["model"]["byte_fallback"] = True
    j["model"]["fuse_unk"] = True
    j["model"]["unk_token"] = "<unk>"
    j["pre_tokenizer"] = None
    for at in j["added_tokens"]:
        at["id"] = newv[at["content"]]
    tok = Tokenizer.from_str(json.dumps(j))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", newv["<s>"])])
    return tok


def golden_lines(tok, texts, path):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            e = tok.encode(t, add_special_tokens=False)
            es = tok.encode(t, add_special_tokens=True)
            rec = {"text": t, "ids": e.ids, "ids_special": es.ids,
                   "decoded": tok.decode(e.ids, skip_special_tokens=False)}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def make_tokenizers(outdir, model_dir):
    os.makedirs(outdir, exist_ok=True)
    eval_text = open(os.path.join(model_dir, "evaluation.txt"), encoding="utf-8").read()
    calib = open(os.path.join(model_dir, "calibration.txt"), encoding="utf-8").read()
    texts = tokenizer_cases.cases(eval_text)
    info = {}
    toks = {
        "demo": (Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json")),
                 os.path.join(model_dir, "tokenizer.json")),
    }
    bl = train_bytelevel_llama3(calib, 800)
    spm = train_spm_bpe(calib, 800)
    for name, tk in [("bytelevel-llama3", bl), ("spm-bpe", spm)]:
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "tokenizer.json")
        tk.save(p)
        toks[name] = (Tokenizer.from_file(p), p)  # goldens from the saved file, as a reader sees it
    for name, (tk, p) in toks.items():
        out = os.path.join(outdir, f"{name}.jsonl")
        golden_lines(tk, texts, out)
        roundtrip = sum(tk.decode(tk.encode(t, add_special_tokens=False).ids, skip_special_tokens=False) == t
                        for t in texts)
        info[name] = {"tokenizer_json": p, "golden": out, "lines": len(texts),
                      "vocab_size": tk.get_vocab_size(), "decode_roundtrip_equal": roundtrip}
        print(f"tokenizer {name}: vocab {tk.get_vocab_size()} lines {len(texts)} exact decode round trips {roundtrip}")
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures")
    ap.add_argument("--model-dir", default="resources/demo-model")
    ap.add_argument("--parts", default="models,ppl,tokenizers")
    a = ap.parse_args()
    parts = a.parts.split(",")
    print("torch", torch.__version__, "transformers", transformers.__version__)
    t0 = time.time()
    report = {}
    failed = []

    def part_models():
        report["models"] = make_models(a.out)
        with open(os.path.join(a.out, "manifest.json"), "w") as f:
            json.dump({"input_ids": INPUT_IDS, "transformers": transformers.__version__,
                       "torch": torch.__version__, "cases": report["models"]}, f, indent=1)
            f.write("\n")

    def part_ppl():
        dev = "cuda" if torch.cuda.is_available() else "cpu"
        make_ppl(os.path.join(a.out, "demo-ppl"), a.model_dir, dev)

    def part_tokenizers():
        report["tokenizers"] = make_tokenizers(os.path.join(a.out, "tokenizers"), a.model_dir)
        with open(os.path.join(a.out, "tokenizers", "info.json"), "w") as f:
            json.dump(report["tokenizers"], f, indent=1)
            f.write("\n")

    for name, fn in [("models", part_models), ("ppl", part_ppl), ("tokenizers", part_tokenizers)]:
        if name in parts:
            try:
                fn()
            except Exception:
                import traceback
                traceback.print_exc()
                failed.append(name)
    print(f"done in {time.time()-t0:.1f}s; failed parts: {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
