#!/usr/bin/env bash
# Assemble the demo corpus from Debian packages (see resources/demo-model/README.md).
# Usage: scripts/demo-model/make_corpus.sh   (run from anywhere; needs root for apt-get)
# Writes .demo-corpus/{train,valid}.txt (ignored) and resources/demo-model/{calibration,evaluation}.txt
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pkgs="bible-kjv bible-kjv-text r-base-core r-cran-janeaustenr"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
# King James Bible: every verse, one a line, prefixed by its reference (-f turns pretty-printing off).
bible -f gen1:1-rev22:21 > "$raw/kjv_raw.txt"
# Jane Austen's six novels, one text line per vector element.
Rscript -e 'library(janeaustenr); a <- commandArgs(TRUE)[1]; for (n in c("sensesensibility","prideprejudice","mansfieldpark","emma","northangerabbey","persuasion")) writeLines(get(n), file.path(a, paste0("austen_", n, ".txt")), useBytes=TRUE)' "$raw"
python3 "$here/make_corpus.py" --raw "$raw" --out-train "$root/.demo-corpus" --out-res "$root/resources/demo-model"
(cd "$root" && sha256sum .demo-corpus/train.txt .demo-corpus/valid.txt resources/demo-model/calibration.txt resources/demo-model/evaluation.txt)
