#!/usr/bin/env bash
# Writes a man page from a program's own help: help2man turns `PROGRAM --help` into
# NAME/SYNOPSIS/DESCRIPTION/OPTIONS, and every subcommand listed there (CLI11's "Subcommands:")
# gets a subsection under COMMANDS with its `--help`, so new commands appear without editing
# this file. EXTRA.h2m adds hand-written sections (help2man's include format).
#   make-manpage.sh PROGRAM OUTPUT.1 EXTRA.h2m "one-line description" VERSION
# Writes OUTPUT.1 and OUTPUT.1.gz; on failure neither is left behind.
set -euo pipefail

cli=$1
out=$2
extra=$3
name=$4
version=$5
command -v help2man >/dev/null || { echo "make-manpage.sh: help2man not found (apt-get install help2man)" >&2; exit 1; }
[[ -x $cli ]] || { echo "make-manpage.sh: $cli is not an executable" >&2; exit 1; }

# Run the program by its name so that its usage lines do not show the build-tree path.
prog=$(basename "$cli")
PATH="$(cd "$(dirname "$cli")" && pwd):$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# CLI11 lists subcommands under "Subcommands:" (or "SUBCOMMANDS:"), one per line, name first.
"$prog" --help >"$work/help.txt"
mapfile -t subcommands < <(awk 'tolower($0) ~ /^subcommands:/ {on = 1; next}
                                on && /^[[:space:]]+[a-z]/ {print $1; next}
                                on {on = 0}' "$work/help.txt")

# roff-escape help text: backslashes, and lines starting with . or ' (roff requests).
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

{
  # COMMANDS first: help2man keeps the include file's order for sections it does not know.
  if ((${#subcommands[@]} > 0)); then
    echo "[COMMANDS]"
  fi
  for sub in "${subcommands[@]}"; do
    echo ".SS $sub"
    echo ".nf"
    "$prog" "$sub" --help | escape
    echo ".fi"
  done
  echo
  cat "$extra"
} >"$work/include.h2m"

help2man --no-info --section=1 \
  --name="$name" --version-string="$version" \
  --include="$work/include.h2m" --output="$work/page.1" "$prog"

gzip -9nc "$work/page.1" >"$work/page.1.gz"
mv "$work/page.1" "$out"
mv "$work/page.1.gz" "$out.gz"
