#!/usr/bin/env bash
# Runs on the device machine (see docs/formats/verification.md): exports the demo model in every
# format with the carried quantscope-cli, scores each export with quantscope-cli eval and with
# transformers (verify_with_transformers.py), and writes both to $OUT.
#   carry: .devbin-lead (quantscope-cli + debs/ with its runtime libraries)
set -u
mkdir -p /tmp/qslib
for f in .devbin-lead/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
CLI=./.devbin-lead/quantscope-cli
E=/tmp/exports
TEXT=resources/demo-model/evaluation.txt
CTX=256 WIN=16
mkdir -p $E "$OUT"
CAL="--samples 16 --seqlen 256"
{
  $CLI export demo --method none --format gguf --type F16 --out $E/demo-f16.gguf
  $CLI export demo --method none --format gguf --type Q8_0 --out $E/demo-q8_0.gguf
  $CLI export demo --method none --format gguf --type Q4_K_M --out $E/demo-q4_k_m.gguf
  $CLI export demo --method gptq --group 32 --format gguf --type Q4_1 $CAL --out $E/gptq-g32-q4_1.gguf
  $CLI export demo --method gptq $CAL --format gptq --out $E/gptq
  $CLI export demo --method awq $CAL --format awq --out $E/awq
  $CLI export demo --method nf4 --format bnb-nf4 --out $E/nf4
  $CLI export demo --method smoothquant $CAL --format w8a8 --out $E/w8a8
} 2>&1 | tr '\r' '\n' | grep -v '%$' > "$OUT/export.log"
ls -la $E >> "$OUT/export.log"
for m in demo $E/demo-f16.gguf $E/demo-q8_0.gguf $E/demo-q4_k_m.gguf $E/gptq-g32-q4_1.gguf $E/gptq $E/awq $E/nf4 $E/w8a8; do
  echo "== $m"; $CLI eval "$m" --text $TEXT --ctx $CTX --max-windows $WIN --json 2>/dev/null
done > "$OUT/quantscope_eval.txt" 2>&1
python3 scripts/verify-exports/verify_with_transformers.py --original resources/demo-model --text $TEXT \
  --ctx $CTX --windows $WIN f16.gguf=$E/demo-f16.gguf q8_0.gguf=$E/demo-q8_0.gguf q4_k_m.gguf=$E/demo-q4_k_m.gguf \
  gptq-g32-q4_1.gguf=$E/gptq-g32-q4_1.gguf gptq=$E/gptq awq=$E/awq nf4=$E/nf4 w8a8=$E/w8a8 \
  > "$OUT/transformers_eval.txt" 2> "$OUT/transformers_stderr.txt"
tail -5 "$OUT/transformers_stderr.txt"
cat "$OUT/export.log" | tail -30; cat "$OUT/quantscope_eval.txt"; cat "$OUT/transformers_eval.txt"
