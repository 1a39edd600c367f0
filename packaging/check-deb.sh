#!/usr/bin/env bash
# Checks the Debian package that `make package` built: its control fields, its file list, and
# that the programs run from a copy unpacked with `dpkg -x` into a temporary root (the
# demo model is found beside the executable, in the unpacked tree).
#   check-deb.sh PACKAGE_DIR
set -euo pipefail
dir=$1
fail() { echo "check-deb.sh: FAIL: $*" >&2; exit 1; }

shopt -s nullglob
debs=("$dir"/quantscope_*.deb)
((${#debs[@]} == 1)) || fail "expected one quantscope_*.deb in $dir, found ${#debs[@]}"
deb=${debs[0]}
echo "check-deb.sh: $deb ($(du -h "$deb" | cut -f1))"

depends=$(dpkg-deb --field "$deb" Depends)
for lib in libqt6widgets6 libqt6gui6 libqcustomplot2.1-qt6 libvulkan1 'libspdlog1\.10[-a-z0-9]*' libpcre2-8-0 libc6; do
  grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[[ $(dpkg-deb --field "$deb" Suggests) == *mesa-vulkan-drivers* ]] || fail "Suggests lacks mesa-vulkan-drivers"
echo "check-deb.sh: Depends: $depends"

contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ./usr/bin/quantscope ./usr/bin/quantscope-cli ./usr/bin/quantscope-bench \
         ./usr/share/quantscope/demo-model/model.safetensors ./usr/share/applications/quantscope.desktop \
         ./usr/share/metainfo/io.github.quantscope.QuantScope.metainfo.xml ./usr/share/mime/packages/quantscope.xml \
         ./usr/share/icons/hicolor/scalable/apps/quantscope.svg ./usr/share/icons/hicolor/48x48/apps/quantscope.png \
         ./usr/share/man/man1/quantscope-cli.1.gz ./usr/share/doc/quantscope/copyright; do
  grep -qxF "$f" <<<"$contents" || fail "the package lacks $f"
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
echo "check-deb.sh: unpacked into $root; running $root/usr/bin/quantscope-cli inspect demo"
summary=$("$root/usr/bin/quantscope-cli" inspect demo) || fail "quantscope-cli inspect demo from the unpacked package"
head -n 8 <<<"$summary"
path=$("$root/usr/bin/quantscope-cli" inspect demo --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])')
[[ $path == "$root/usr/share/quantscope/demo-model" ]] || fail "the unpacked CLI opened $path, not $root/usr/share/quantscope/demo-model"
echo "check-deb.sh: the unpacked CLI opened $path"

# The GUI starts from the unpacked tree, opens the demo model and saves a window image.
shot=$root/screenshot.png
HOME=$root/home QT_QPA_PLATFORM=offscreen timeout 120 "$root/usr/bin/quantscope" demo --screenshot "$shot" \
  >"$root/gui.log" 2>&1 || { cat "$root/gui.log"; fail "the unpacked GUI did not open the demo model and save $shot"; }
[[ -s $shot ]] || fail "no screenshot at $shot"
echo "check-deb.sh: the unpacked GUI opened the demo model and saved a $(file -b "$shot" | cut -d, -f2 | xargs) window image"
echo "check-deb.sh: ok"
