#!/usr/bin/env bash
# `cmake --install` into a throw-away prefix puts every program, the demo model and the desktop
# integration where a Linux desktop looks, and the installed CLI finds the installed demo model
# (beside the executable, not the source tree).
#   check_install_tree.sh BUILD_DIR GUI(ON|OFF)
set -euo pipefail
build=$1
gui=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >"$prefix/install.log" || { cat "$prefix/install.log"; fail "cmake --install"; }

expected=(bin/quantscope-cli bin/quantscope-bench
          share/quantscope/demo-model/config.json share/quantscope/demo-model/model.safetensors
          share/quantscope/demo-model/tokenizer.json share/quantscope/demo-model/evaluation.txt
          share/man/man1/quantscope-cli.1.gz share/man/man1/quantscope-bench.1.gz
          share/doc/quantscope/copyright)
if [[ $gui == ON ]]; then
  expected+=(bin/quantscope share/man/man1/quantscope.1.gz share/applications/quantscope.desktop
             share/metainfo/io.github.quantscope.QuantScope.metainfo.xml
             share/mime/packages/quantscope.xml share/icons/hicolor/scalable/apps/quantscope.svg)
fi
for f in "${expected[@]}"; do
  [[ -s $prefix/$f ]] || fail "cmake --install did not install $f"
done
echo "ok: ${#expected[@]} files in place"

if [[ $gui == ON ]]; then
  for size in 16 22 24 32 48 64 128 256 512; do
    png=$prefix/share/icons/hicolor/${size}x${size}/apps/quantscope.png
    [[ -f $png ]] || fail "no $png"
    file -b "$png" | grep -q "PNG image data, $size x $size," || fail "$png is not a ${size}x${size} PNG: $(file -b "$png")"
  done
  echo "ok: hicolor PNGs 16..512"
  # The entry's Exec and Icon must name what was installed.
  grep -qx 'Exec=quantscope %f' "$prefix/share/applications/quantscope.desktop" || fail "Exec is not 'quantscope %f'"
  grep -qx 'Icon=quantscope' "$prefix/share/applications/quantscope.desktop" || fail "Icon is not 'quantscope'"
  # AppStream's view of the whole tree: the metainfo's launchable .desktop entry must be there.
  mkdir "$prefix/root" && ln -s "$prefix" "$prefix/root/usr"
  appstreamcli validate-tree --no-net "$prefix/root" || fail "appstreamcli validate-tree"
fi

json=$("$prefix/bin/quantscope-cli" inspect demo --json) || fail "installed quantscope-cli inspect demo failed"
path=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])' <<<"$json")
[[ $path == "$prefix/share/quantscope/demo-model"* ]] || fail "installed CLI opened $path, not the installed demo model"
echo "ok: installed quantscope-cli inspect demo opened $path"
