#!/usr/bin/env bash
# Device machine: issue 4's kernel targets in one call. Checks the tensor-core kernels against
# their CPU twins (test binaries), then times the 4-bit GEMV work splits, the GEMV baselines and
# X^T X. Carry .gl (the Vulkan loader .deb) and DEVBIN (scripts/device/pack.sh output plus the
# two test binaries and their libraries' .debs). Usage: kernels_h100.sh DEVBIN [quick]
set -u
DEVBIN=${1:?usage: kernels_h100.sh DEVBIN}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p /tmp/qslib; for f in "$DEVBIN"/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
export QT_QPA_PLATFORM=offscreen XDG_CACHE_HOME=/tmp/qscache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv | tee "$OUT/smi.txt"
for t in test_vulkan_tensor_cores test_compute_vulkan; do
  [ -x "$DEVBIN/$t" ] && timeout 200 "$DEVBIN/$t" > "$OUT/$t.txt" 2>&1; echo "$t rc=$? $(grep Totals "$OUT/$t.txt")"
  grep -E "^FAIL|normalized error" "$OUT/$t.txt" | grep -E "FAIL|mma|f16" | head -20
done
B="$DEVBIN/quantscope-bench"
V="--gemv-variants 128x4x0 --gemv-mma-variants 1x2x1x0x1 2x2x1x0x1 8x2x1x0x1 4x1x1x0x1 4x4x1x0x1 4x2x0x0x1 4x2x1x1x1 4x2x1x0x0 4x2x1x1x0 8x4x1x1x1"
timeout 200 $B --only-dequant --formats int4-g128-sym int4-g128-asym --shapes 28672x8192 --batches 1 8 --reps 10 $V --out "$OUT/gemv_variants.md" > /dev/null 2> "$OUT/gemv_variants.log"
echo "gemv variants rc=$?"
timeout 150 $B --only-dequant --gemv-mma --formats int4-g128-sym int4-g128-asym int8 f16 --shapes 28672x8192 8192x28672 14336x4096 4096x14336 4096x4096 --batches 1 8 --reps 10 --out "$OUT/gemv_shapes.md" > /dev/null 2> "$OUT/gemv_shapes.log"
echo "gemv shapes rc=$?"
timeout 200 $B --only-calib --calib-shapes 2048x4096 16384x4096 16384x11008 --reps 5 --out "$OUT/hessian.md" > /dev/null 2> "$OUT/hessian.log"
echo "hessian rc=$?"
for f in gemv_variants gemv_shapes hessian; do
  echo "== $f"; grep -E "^\| (dequant|hessian)" "$OUT/$f.md" | awk -F'|' '{printf "%s|%s|%s|%s|%s|%s|%s\n", $3, $4, $5, $6, $10, $11, $13}'
done
