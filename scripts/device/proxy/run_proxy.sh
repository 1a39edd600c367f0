#!/usr/bin/env bash
# Device machine: times the CUDA twins of the int4 GEMV designs (gemv_int4_proxy.cu, built here
# with nvcc -O3 -arch=sm_90) and profiles three of them with Nsight Compute (clocks untouched).
# Usage: run_proxy.sh BIN   (BIN: the built gemv_int4_proxy)
set -u
BIN=${1:?usage: run_proxy.sh BIN}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
[ "${SKIP_TIMING:-0}" = 1 ] || "$BIN" | tee "$OUT/proxy.txt"
# The first kernels named simt and mma that run are simt<false, 8> (gemv.comp before) and
# mma<4, 2, true> (gemv_mma.comp's default split); 20 warm-up launches come first.
for k in "regex:^simt" "regex:^mma"; do
  timeout 60 ncu --clock-control none -k "$k" --launch-skip 25 --launch-count 1 \
      --section SpeedOfLight --section Occupancy --section WarpStateStats --section InstructionStats \
      --section LaunchStats "$BIN" > "$OUT/ncu_$(echo "$k" | tr -c 'a-z0-9' _).txt" 2>&1
done
for f in "$OUT"/ncu_*.txt; do
  echo "== $f"
  grep -E "^\s+(Duration|DRAM Throughput|Memory Throughput|Compute \(SM\) Throughput|Registers Per Thread|Achieved Occupancy|Theoretical Occupancy|Issue Slots Busy|Executed Ipc Active|Warp Cycles Per Issued Instruction|Executed Instructions|Avg. Active Threads Per Warp)" "$f" | head -14
  grep -iE "stall|OPT|bottleneck" "$f" | head -6
done
