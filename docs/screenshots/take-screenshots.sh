#!/usr/bin/env bash
# Takes the GUI screenshots under Xvfb (packaging/install-deps.sh installs xvfb).
#   [ONLY=a.png,b.png] docs/screenshots/take-screenshots.sh [BUILD_DIR] [MODEL]
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
  [[ -z "${ONLY:-}" || ",$ONLY," == *",$file,"* ]] || return 0 # ONLY=a.png,b.png takes just those
  HOME="$home" HF_HUB_CACHE="$hub" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    xvfb-run -a -s "-screen 0 1400x900x24" "$app" "$@" --screenshot "$here/$file" 2>/dev/null
  echo "wrote docs/screenshots/$file"
}

# A small hub cache for the cache browser: the demo model and two test fixtures, linked in the
# hub's layout (models--org--name/snapshots/<rev>/, refs/main).
hub="$home/hub"
cache_repo() { # REPO REVISION SOURCE_DIR
  local dir="$hub/models--${1/\//--}"
  mkdir -p "$dir/snapshots/$2" "$dir/refs"
  ln -s "$3"/*.json "$3"/*.safetensors "$dir/snapshots/$2/"
  echo "$2" > "$dir/refs/main"
}
cache_repo quantscope/demo-llama 3f1c2a9e8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e "$root/resources/demo-model"
cache_repo test/tiny-llama-sharded 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b "$root/tests/fixtures/llama-sharded"
cache_repo test/tiny-qwen3 0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d "$root/tests/fixtures/qwen3"

shot main-window.png "$model" --select model.layers.0.self_attn.q_proj.weight
shot inspector.png "$model" --select model.layers.1.mlp.down_proj.weight --view inspector
shot metrics.png "$model" --select model.layers.1.mlp.down_proj.weight --view metrics --run-compare rtn,nf4,gptq --preset tiny
shot compare.png "$model" --select model.layers.1.mlp.down_proj.weight --view compare --run-compare rtn,absmax,smoothquant,gptq,awq,nf4 --preset quick
shot inspector-heatmaps.png "$model" --select model.layers.1.mlp.down_proj.weight --view inspector --run-compare rtn,gptq,nf4 --preset tiny --heatmap error:gptq
shot activations.png "$model" --select model.layers.1.mlp.gate_proj.weight --view activations --calibrate quick
shot layer-compare.png "$model" --select model.layers.1.mlp.down_proj.weight --view layer-compare --run-compare rtn,absmax,smoothquant,gptq,awq,nf4 --preset tiny
shot playground.png "$model" --view playground --generate
shot hf-cache.png "$model" --hf-cache
