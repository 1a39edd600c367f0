#!/usr/bin/env bash
# Packs programs built here for the device machine (which has none of our runtime libraries):
# the stripped quantscope-cli, quantscope-bench and make_random_llama from BUILD_DIR, plus the
# Debian packages of every shared library they load that glibc does not provide, into OUT_DIR.
# On the device: for f in OUT_DIR/debs/*.deb; do dpkg -x $f /tmp/qslib; done and
# export LD_LIBRARY_PATH=/tmp/qslib/usr/lib/x86_64-linux-gnu.
#   usage: scripts/device/pack.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=${1:?usage: pack.sh BUILD_DIR OUT_DIR}
out=${2:?usage: pack.sh BUILD_DIR OUT_DIR}
mkdir -p "$out/debs"
progs=()
for name in quantscope-cli quantscope-bench make_random_llama; do
    p=$(find "$build" -type f -name "$name" -perm -u+x | head -1)
    [ -n "$p" ] || { echo "pack.sh: $name not built in $build (skipped)" >&2; continue; }
    strip -o "$out/$name" "$p"
    progs+=("$out/$name")
done
[ ${#progs[@]} -gt 0 ] || { echo "pack.sh: nothing to pack in $build" >&2; exit 1; }
# The packages that own each linked library, minus glibc's and gcc's own (the device has newer ones).
pkgs=$(for p in "${progs[@]}"; do ldd "$p"; done | awk '/=> \//{print $3}' | sort -u |
       xargs -r realpath | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u |
       grep -v -x -e libc6 -e libgcc-s1 -e libstdc++6 || true)
(cd "$out/debs" && for pkg in $pkgs; do ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get download "$pkg" >/dev/null; done)
echo "packed: ${progs[*]}; packages: $(echo $pkgs | tr '\n' ' ')"
du -sh "$out"
