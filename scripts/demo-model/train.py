#!/usr/bin/env python3
"""Train the QuantScope demo model: a byte-level BPE tokenizer and a small Llama-architecture
causal LM, keeping the checkpoint with the best held-out (valid.txt) loss.

Run on the GPU machine from the repository root:
  PYTHONUNBUFFERED=1 python3 scripts/demo-model/train.py --corpus .demo-corpus \
      --res resources/demo-model --out resources/demo-model
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
import transformers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rope_kwargs, save_kwargs  # noqa: E402

SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]  # ids 0..3


def train_tokenizer(train_text_docs, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(train_text_docs, trainer=trainer)
    bos = tok.token_to_id("<s>")
    assert [tok.token_to_id(s) for s in SPECIALS] == [0, 1, 2, 3]
    # Llama style: BOS is prepended when special tokens are requested; no EOS.
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", bos)])
    return tok


def gen_samples(model, tok, dev, samples):
    for prompt in ["And it came to pass", "It is a truth universally acknowledged", "Chapter 1\n\n"]:
        ids = torch.tensor([[1] + tok.encode(prompt, add_special_tokens=False).ids], device=dev)
        torch.manual_seed(0)
        out = model.generate(ids, max_new_tokens=60, do_sample=True, temperature=0.8, top_k=50,
                             pad_token_id=3, eos_token_id=2)
        samples.append(tok.decode(out[0].tolist(), skip_special_tokens=True))
        print("SAMPLE:", repr(samples[-1]))



def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=".demo-corpus")
    ap.add_argument("--res", default="resources/demo-model")
    ap.add_argument("--out", default="resources/demo-model")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--ctx", type=int, default=512, help="training sequence length")
    ap.add_argument("--max-pos", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lrs", default="1e-3", help="comma-separated peak LRs; one run each, best kept")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--max-steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--patience", type=int, default=6, help="evals without improvement before stopping")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds of training, all runs")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--info", default="train_info.json", help="where to write the training record (JSON)")
    a = ap.parse_args()

    t_all = time.time()
    print("torch", torch.__version__, "transformers", transformers.__version__,
          "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
    dev = "cuda"
    train_text = read(os.path.join(a.corpus, "train.txt"))
    valid_text = read(os.path.join(a.corpus, "valid.txt"))
    eval_text = read(os.path.join(a.res, "evaluation.txt"))
    train_docs = train_text.split("\n\n\n")

    t0 = time.time()
    tok = train_tokenizer(train_docs, a.vocab)
    t_tok = time.time() - t0
    print(f"tokenizer: vocab {tok.get_vocab_size()} trained in {t_tok:.1f}s")

    eos = tok.token_to_id("</s>")
    stream = []
    for e in tok.encode_batch(train_docs, add_special_tokens=False):
        stream.extend(e.ids)
        stream.append(eos)  # documents are separated by EOS
    train_ids = torch.tensor(stream, dtype=torch.long)
    valid_ids = torch.tensor(tok.encode(valid_text, add_special_tokens=False).ids, dtype=torch.long)
    eval_ids = torch.tensor(tok.encode(eval_text, add_special_tokens=False).ids, dtype=torch.long)
    print(f"tokens: train {len(train_ids)} ({len(train_text.encode())/len(train_ids):.2f} bytes/token), "
          f"valid {len(valid_ids)}, evaluation {len(eval_ids)}")

    def windows(ids, ctx):
        n = len(ids) // ctx
        return ids[: n * ctx].view(n, ctx)

    valid_w = windows(valid_ids, a.ctx).to(dev)
    eval_w = windows(eval_ids, a.ctx).to(dev)

    cfg = LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=a.hidden, intermediate_size=a.intermediate,
        num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
        hidden_act="silu", max_position_embeddings=a.max_pos, rms_norm_eps=1e-5,
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        bos_token_id=1, eos_token_id=2, pad_token_id=3, initializer_range=0.02,
        **rope_kwargs(10000.0))

    @torch.no_grad()
    def mean_loss(model, w, bs=16):
        model.eval()
        tot, cnt = 0.0, 0
        for i in range(0, len(w), bs):
            x = w[i : i + bs]
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = model(input_ids=x).logits
            l = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                                x[:, 1:].reshape(-1), reduction="sum")
            tot += l.item()
            cnt += x[:, 1:].numel()
        model.train()
        return tot / cnt

    best = {"valid": float("inf")}
    runs = []
    t_train0 = time.time()
    for lr in [float(s) for s in a.lrs.split(",")]:
        torch.manual_seed(a.seed)
        model = LlamaForCausalLM(cfg).to(dev)
        nparams = sum(p.numel() for p in model.parameters())
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
        def lr_at(s):
            if s < a.warmup:
                return lr * (s + 1) / a.warmup
            p = min(1.0, (s - a.warmup) / max(1, a.max_steps - a.warmup))
            return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))
        g = torch.Generator().manual_seed(a.seed)
        hist = []
        run_best = (float("inf"), -1)
        since = 0
        tokens_seen = 0
        t_run = time.time()
        train_loss_ema = None
        step = 0
        stop_reason = "max_steps"
        for step in range(1, a.max_steps + 1):
            for gr in opt.param_groups:
                gr["lr"] = lr_at(step - 1)
            starts = torch.randint(0, len(train_ids) - a.ctx - 1, (a.batch,), generator=g)
            x = torch.stack([train_ids[s : s + a.ctx + 1] for s in starts.tolist()]).to(dev, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = model(input_ids=x[:, :-1]).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tokens_seen += a.batch * a.ctx
            lv = loss.item() if step % 10 == 0 or step == 1 else None
            if lv is not None:
                train_loss_ema = lv if train_loss_ema is None else 0.8 * train_loss_ema + 0.2 * lv
            if step % a.eval_every == 0:
                vl = mean_loss(model, valid_w)
                el = mean_loss(model, eval_w)
                hist.append({"step": step, "tokens": tokens_seen, "lr": lr_at(step - 1),
                             "train_loss": lv, "train_loss_ema": train_loss_ema,
                             "valid_loss": vl, "eval_loss": el, "time_s": time.time() - t_run})
                mark = ""
                if vl < run_best[0]:
                    run_best = (vl, step)
                    since = 0
                    if vl < best["valid"]:
                        best = {"valid": vl, "eval": el, "train_loss": lv, "train_loss_ema": train_loss_ema,
                                "step": step, "tokens": tokens_seen, "lr": lr,
                                "state": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}}
                        mark = " *best"
                else:
                    since += 1
                print(f"lr {lr:g} step {step:5d} tok {tokens_seen/1e6:7.2f}M train {lv:.4f} "
                      f"valid {vl:.4f} eval {el:.4f} {time.time()-t_run:6.1f}s{mark}")
                if since >= a.patience or vl > run_best[0] + 0.15:
                    stop_reason = f"early stop: valid loss has not improved since step {run_best[1]}"
                    break
                if time.time() - t_train0 > a.time_limit:
                    stop_reason = "time limit"
                    break
        runs.append({"lr": lr, "best_valid": run_best[0], "best_step": run_best[1], "steps": step,
                     "stop": stop_reason, "time_s": time.time() - t_run, "history": hist})
        print(f"run lr {lr:g}: best valid {run_best[0]:.4f} at step {run_best[1]}, {stop_reason}")
        del model, opt
        torch.cuda.empty_cache()
        if time.time() - t_train0 > a.time_limit:
            break
    t_train = time.time() - t_train0

    # Reload the best state, measure in f32, save in f16.
    model = LlamaForCausalLM(cfg)
    model.load_state_dict(best.pop("state"))
    model.to(dev).float()
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.no_grad():
        def f32_loss(w):
            tot, cnt = 0.0, 0
            for i in range(0, len(w), 16):
                x = w[i : i + 16]
                logits = model(input_ids=x).logits
                tot += F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                       reduction="sum").item()
                cnt += x[:, 1:].numel()
            return tot / cnt
        train_w = windows(train_ids[: 256 * a.ctx], a.ctx).to(dev)  # first 128K train tokens
        best["f32_valid_loss"] = f32_loss(valid_w)
        best["f32_eval_loss"] = f32_loss(eval_w)
        best["f32_train_loss_first_128k_tokens"] = f32_loss(train_w)
    model.eval()
    samples = []
    try:
        gen_samples(model, tok, dev, samples)
    except Exception as ex:
        print("generation failed:", repr(ex))

    os.makedirs(a.out, exist_ok=True)
    model.half()
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=3)
    model.save_pretrained(a.out, **save_kwargs())
    # Tokenizer: transformers' wrapper writes tokenizer_config.json; tokenizer.json is then
    # written by the tokenizers library itself so that it is exactly the trained tokenizer.
    try:
        from transformers import PreTrainedTokenizerFast
        hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                         unk_token="<unk>", pad_token="<pad>", model_max_length=a.max_pos)
        hf_tok.save_pretrained(a.out)
    except Exception as ex:  # pragma: no cover
        print("PreTrainedTokenizerFast save failed:", ex)
    tok.save(os.path.join(a.out, "tokenizer.json"))
    tcp = os.path.join(a.out, "tokenizer_config.json")
    tc = json.load(open(tcp)) if os.path.exists(tcp) else {}
    tc.update({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
               "model_max_length": a.max_pos})
    # transformers 5 writes "TokenizersBackend"; the name used on the hub (and known to 4.x and
    # 5.x alike) is PreTrainedTokenizerFast.
    tc["tokenizer_class"] = "PreTrainedTokenizerFast"
    with open(tcp, "w") as f:
        json.dump(tc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    # Check that transformers loads the saved tokenizer and agrees with the tokenizers library.
    try:
        from transformers import AutoTokenizer
        at = AutoTokenizer.from_pretrained(a.out)
        probe = eval_text[:2000]
        same = at(probe)["input_ids"] == tok.encode(probe).ids
    except Exception as ex:
        same = f"failed: {ex!r}"
    print("AutoTokenizer agrees with tokenizers (add_special_tokens=True):", same)

    info = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0),
        "parameters": nparams, "vocab_size": tok.get_vocab_size(),
        "tokens": {"train": len(train_ids), "valid": len(valid_ids), "evaluation": len(eval_ids)},
        "tokenizer_train_time_s": t_tok, "training_time_s": t_train,
        "total_time_s": time.time() - t_all,
        "batch": a.batch, "ctx": a.ctx, "warmup": a.warmup, "max_steps": a.max_steps,
        "best": best, "runs": runs, "samples": samples, "autotokenizer_agrees": same,
        "args": vars(a),
    }
    with open(a.info, "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps({k: v for k, v in info.items() if k not in ("runs",)}, indent=1))


if __name__ == "__main__":
    main()
