#!/usr/bin/env bash
# Takes the GUI screenshots under Xvfb (packaging/install-deps.sh installs xvfb).
#   docs/screenshots/take-screenshots.sh [BUILD_DIR] [MODEL]
# BUILD_DIR defaults to build, MODEL to demo. Settings go to a throw-away HOME so the user's
# recent models and window layout neither shape nor receive the pictures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
model=${2:-demo}
app="$build/app/quantscope"
[[ -x "$app" ]] || { echo "take-screenshots.sh: $app not built (cmake --build $build --target quantscope)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "take-screenshots.sh: xvfb-run missing (packaging/install-deps.sh)" >&2; exit 1; }

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
shot() { # FILE ARGS...
  local file=$1; shift
  HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    xvfb-run -a -s "-screen 0 1400x900x24" "$app" "$@" --screenshot "$here/$file" 2>/dev/null
  echo "wrote docs/screenshots/$file"
}

shot main-window.png "$model" --select model.layers.0.self_attn.q_proj.weight
shot inspector.png "$model" --select model.layers.1.mlp.down_proj.weight --view inspector
shot metrics.png "$model" --select model.layers.1.mlp.down_proj.weight --view metrics --run-compare rtn,nf4,gptq --preset tiny
shot compare.png "$model" --select model.layers.1.mlp.down_proj.weight --view compare --run-compare rtn,absmax,smoothquant,gptq,awq,nf4 --preset quick
shot inspector-heatmaps.png "$model" --select model.layers.1.mlp.down_proj.weight --view inspector --run-compare rtn,gptq,nf4 --preset tiny --heatmap error:gptq
shot activations.png "$model" --select model.layers.1.mlp.gate_proj.weight --view activations --calibrate quick
shot layer-compare.png "$model" --select model.layers.1.mlp.down_proj.weight --view layer-compare --run-compare rtn,absmax,smoothquant,gptq,awq,nf4 --preset tiny
