#!/usr/bin/env bash
# The generated man pages render without groff warnings, and quantscope-cli(1) documents every
# subcommand that `quantscope-cli --help` lists.
#   check_man_pages.sh MAN_DIR CLI
set -euo pipefail
dir=$1
cli=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

shopt -s nullglob
pages=("$dir"/*.1.gz)
((${#pages[@]} > 0)) || fail "no man pages in $dir"
for page in "${pages[@]}"; do
  warnings=$(zcat "$page" | groff -man -Tutf8 -ww -z 2>&1) || fail "groff $page: $warnings"
  [[ -z $warnings ]] || fail "groff warnings in $page: $warnings"
  text=$(MANWIDTH=100 man -l -P cat "$page" 2>&1) || fail "man -l $page: $text"
  for section in NAME SYNOPSIS DESCRIPTION; do
    grep -q "^$section" <<<"$text" || fail "$page has no $section section"
  done
  echo "ok: $(basename "$page") renders ($(wc -l <<<"$text") lines)"
done

cli_page=$dir/quantscope-cli.1.gz
[[ -f $cli_page ]] || fail "no $cli_page"
text=$(MANWIDTH=100 man -l -P cat "$cli_page")
subcommands=$("$cli" --help | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next}
                                   on && /^[[:space:]]+[a-z]/ {print $1; next} on {on = 0}')
[[ -n $subcommands ]] || fail "'$cli --help' lists no subcommands"
for sub in $subcommands; do
  # Each subcommand has a subsection (man indents .SS headings by 3) with that command's usage.
  grep -Eq "^   $sub\$" <<<"$text" || fail "$cli_page has no subsection for '$sub'"
  grep -Eq "Usage: quantscope-cli $sub " <<<"$text" || fail "$cli_page lacks the usage of '$sub'"
done
echo "ok: quantscope-cli.1 documents" $subcommands
