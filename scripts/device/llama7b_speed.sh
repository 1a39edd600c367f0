#!/usr/bin/env bash
# Device machine: Llama-2-7B-shape random model (f16, 13.5 GB) -> prefill/decode on the H100
# (Vulkan) and on the machine's CPU, and GPTQ/AWQ/RTN time and peak memory on its first block.
#   carry: .gl (Vulkan loader debs) and .devbin-lead (quantscope-cli, make_random_llama, debs/)
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
mkdir -p /tmp/qslib; for f in .devbin-lead/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/qscache
B=./.devbin-lead
M=/tmp/llama7b
T() { local t0=$EPOCHREALTIME; "$@"; awk -v a="$t0" -v b="$EPOCHREALTIME" -v c="$*" 'BEGIN{printf "[%.1f s] %s\n", b-a, c}' >&2; }
T $B/make_random_llama $M llama-2-7b > /dev/null
nproc >&2
T timeout 150 $B/quantscope-cli speed $M --gpu --prompt-tokens 512 --gen-tokens 32 --repeats 2 --json
for meth in gptq awq; do
  T timeout 150 env QS_THREADS=16 $B/quantscope-cli speed $M --quantize $meth --samples 8 --seqlen 256 --blocks 1 --json
done
T timeout 90 env QS_THREADS=16 $B/quantscope-cli speed $M --half --prompt-tokens 64 --gen-tokens 8 --repeats 1 --json
