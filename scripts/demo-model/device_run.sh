#!/usr/bin/env bash
# The command run on the GPU machine (from the repository root, after make_corpus.sh here;
# .demo-corpus/ travels with it). Results go to $OUT:
#   model.tar.part-*  resources/demo-model/ as a split tar (the trained model, tokenizer, configs)
#   fixtures.tar  tests/fixtures/
#   *_log.txt, train_info.json
# Usage: scripts/demo-model/device_run.sh [all|train|fixtures]
set -o pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/demo-model-out}
mkdir -p "$OUT"
what=${1:-all}
here=scripts/demo-model
nvidia-smi -L || true
python3 -c 'import torch, transformers, tokenizers, safetensors; print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__, "safetensors", safetensors.__version__, "gpus", torch.cuda.device_count())'
rc=0
if [ "$what" = all ] || [ "$what" = train ]; then
  python3 $here/train.py --corpus .demo-corpus --res resources/demo-model --out resources/demo-model \
      --lrs 1e-3,2e-3 --max-steps 900 --time-limit 300 --info "$OUT/train_info.json" 2>&1 | tee "$OUT/train_log.txt"
  rc=$?
  # one file back from the machine is at most 16 MiB: split the tar (cat model.tar.part-* | tar x)
  tar cf - resources/demo-model | split -b 15m - "$OUT/model.tar.part-"
  [ $rc -eq 0 ] || exit $rc
fi
if [ "$what" = all ] || [ "$what" = fixtures ]; then
  python3 $here/make_fixtures.py --out tests/fixtures --model-dir resources/demo-model 2>&1 | tee "$OUT/fixtures_log.txt"
  rc=$?
  tar cf "$OUT/fixtures.tar" tests/fixtures
fi
exit $rc
