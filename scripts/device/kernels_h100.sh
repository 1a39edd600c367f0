#!/usr/bin/env bash
# Device machine: issue 4's kernel targets in one call. The NVIDIA Vulkan ICD needs glvnd's
# libGLdispatch: .gl must hold the device README's whole loader set (libvulkan1 libegl1 libglvnd0
# libopengl0 libgl1 libglx0 libgles2); with libvulkan1 alone vkCreateInstance fails with -9
# (docs/benchmarks.md, session 4). Checks the tensor-core kernels
# against their CPU twins (test binaries), then times the 4-bit GEMV work splits, the GEMV
# baselines, X^T X, and the cooperative-matrix GEMM with f32 and with f16 X (about 8 minutes).
# Carry .gl (the loader .debs above) and DEVBIN: scripts/device/pack.sh's output plus the two
# stripped test binaries (test_compute_vulkan, test_vulkan_tensor_cores) and their libraries'
# .debs, without libstdc++6 (Debian's is older than the device's).
# Usage: [TESTS=... T1= T2= T3= T4= SHAPES=... CALIB=...] kernels_h100.sh DEVBIN
set -u
DEVBIN=${1:?usage: kernels_h100.sh DEVBIN}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p /tmp/qslib; for f in "$DEVBIN"/debs/*.deb; do dpkg -x "$f" /tmp/qslib; done
export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu
export QT_QPA_PLATFORM=offscreen XDG_CACHE_HOME=/tmp/qscache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv | tee "$OUT/smi.txt"
"$DEVBIN/quantscope-bench" --devices > "$OUT/devices.txt" 2>&1 || { cat "$OUT/devices.txt"; echo "no Vulkan device"; exit 1; }
for t in ${TESTS:-test_vulkan_tensor_cores test_compute_vulkan}; do
  [ -x "$DEVBIN/$t" ] && timeout 120 "$DEVBIN/$t" > "$OUT/$t.txt" 2>&1; echo "$t rc=$? $(grep Totals "$OUT/$t.txt")"
  grep -E "^FAIL|normalized error" "$OUT/$t.txt" | grep -E "FAIL|mma|f16" | head -20
done
B="$DEVBIN/quantscope-bench"
V="--gemv-variants 128x4x0 --gemv-mma-variants 1x2x1x0x1 2x2x1x0x1 8x2x1x0x1 4x1x1x0x1 4x4x1x0x1 4x2x0x0x1 4x2x1x1x1 4x2x1x0x0 4x2x1x1x0 8x4x1x1x1"
timeout ${T1:-200} $B --only-dequant --formats int4-g128-sym int4-g128-asym --shapes 28672x8192 --batches 1 8 --reps 10 $V --out "$OUT/gemv_variants.md" > /dev/null 2> "$OUT/gemv_variants.log"
echo "gemv variants rc=$?"
timeout ${T2:-150} $B --only-dequant --gemv-mma --formats int4-g128-sym int4-g128-asym int8 f16 --shapes ${SHAPES:-28672x8192 14336x4096 4096x14336} --batches 1 8 --reps 10 --out "$OUT/gemv_shapes.md" > /dev/null 2> "$OUT/gemv_shapes.log"
echo "gemv shapes rc=$?"
timeout ${T3:-200} $B --only-calib --calib-shapes ${CALIB:-2048x4096 16384x4096 16384x11008} --reps 5 --out "$OUT/hessian.md" > /dev/null 2> "$OUT/hessian.log"
echo "hessian rc=$?"
for hx in "" --coopmat-half-x; do
  timeout ${T4:-150} $B --only-dequant $hx --formats int4-g128-sym int8 f16 --shapes 28672x8192 4096x14336 --batches 512 2048 --reps 10 \
      --out "$OUT/gemm${hx:+_half_x}.md" > /dev/null 2> "$OUT/gemm${hx:+_half_x}.log"
  echo "gemm ${hx:-f32 x} rc=$?"
done
for f in gemv_variants gemv_shapes hessian gemm gemm_half_x; do
  echo "== $f"; grep -E "^\| (dequant|hessian)" "$OUT/$f.md" | awk -F'|' '{printf "%s|%s|%s|%s|%s|%s|%s\n", $3, $4, $5, $6, $10, $11, $13}'
done
