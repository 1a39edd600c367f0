#!/usr/bin/env bash
# Device machine: where the time of the forward pass and of the calibration pass goes, on a
# Llama-2-7B-width model with few blocks (quick to write and load): prefill/decode, the
# calibration pass alone (32 x 512 tokens through each block, Hessians and statistics at every
# linear input, then the block outputs), then GPTQ and AWQ end to end on those blocks, each with
# QS_PROFILE's per-stage times (stderr, also under $OUT).
#   carry: .gl (the device README's loader .debs: libvulkan1 and glvnd's libglvnd0 libegl1 libgl1
#   libglx0 libopengl0 libgles2; without libglvnd0 vkCreateInstance fails) and BIN (scripts/device/pack.sh output)
#   usage: scripts/device/forward_profile.sh BIN [LAYERS] [SAMPLES] [extra commands...]
set -u
bin=${1:?usage: forward_profile.sh BIN [LAYERS] [SAMPLES]}
layers=${2:-2}
samples=${3:-32}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
mkdir -p /tmp/qslib; for f in "$bin"/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/qscache
out=${OUT:-/tmp}
M=/tmp/llama7b-$layers
T() { local t0=$EPOCHREALTIME; "$@"; local rc=$?; awk -v a="$t0" -v b="$EPOCHREALTIME" -v c="$*" -v r=$rc 'BEGIN{printf "[%.1f s, rc %d] %s\n", b-a, r, c}' >&2; }
[ -f $M/config.json ] || T "$bin"/make_random_llama $M llama-2-7b --layers "$layers" > /dev/null
nproc >&2; nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader >&2
export QS_PROFILE=1
T "$bin"/quantscope-cli speed $M --gpu --prompt-tokens 512 --gen-tokens 8 --repeats 2 2>&1 | tee $out/speed.txt
T "$bin"/quantscope-cli speed $M --gpu --calibrate --samples "$samples" --seqlen 512 2>&1 | tee $out/calibrate.txt
for meth in gptq awq; do
  T timeout 240 "$bin"/quantscope-cli speed $M --gpu --quantize $meth --samples "$samples" --seqlen 512 2>&1 |
      tee $out/$meth.txt
done
