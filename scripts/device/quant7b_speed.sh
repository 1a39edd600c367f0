#!/usr/bin/env bash
# Device machine: time GPTQ and AWQ end to end on a random Llama-2-7B-shape model (f16, 13.5 GB)
# with the default calibration (32 samples x 512 tokens), linears and kernels on the H100 through
# Vulkan, and the machine's 16 CPU cores for the rest.
#   carry: .gl (the device README's loader .debs: libvulkan1 and glvnd's libglvnd0 libegl1 libgl1
#   libglx0 libopengl0 libgles2; without libglvnd0 vkCreateInstance fails) and BIN (scripts/device/pack.sh output)
#   usage: scripts/device/quant7b_speed.sh BIN "METHODS" [BLOCKS] [extra speed options]
set -u
bin=${1:?usage: quant7b_speed.sh BIN METHODS [BLOCKS]}
methods=${2:-"gptq awq"}
blocks=${3:-0}
shift 3 2>/dev/null || shift $#
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
mkdir -p /tmp/qslib; for f in "$bin"/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/qscache
M=/tmp/llama7b
T() { local t0=$EPOCHREALTIME; "$@"; local rc=$?; awk -v a="$t0" -v b="$EPOCHREALTIME" -v c="$*" -v r=$rc 'BEGIN{printf "[%.1f s, rc %d] %s\n", b-a, r, c}' >&2; }
[ -f $M/config.json ] || T "$bin"/make_random_llama $M llama-2-7b > /dev/null
nproc >&2; nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv >&2
for meth in $methods; do
  T /usr/bin/time -v "$bin"/quantscope-cli speed $M --gpu --quantize "$meth" --samples 32 --seqlen 512 \
      --blocks "$blocks" "$@" 2> >(grep -E "Maximum resident|Elapsed|^\[|error|Error" >&2)
done
