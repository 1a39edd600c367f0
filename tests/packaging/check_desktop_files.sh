#!/usr/bin/env bash
# The .desktop entry, the AppStream metainfo and the MIME package pass their validators, and the
# metainfo's newest release is the project version.
#   check_desktop_files.sh LINUX_DIR PROJECT_VERSION
set -euo pipefail
dir=$1
version=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

desktop-file-validate "$dir/quantscope.desktop" || fail "desktop-file-validate $dir/quantscope.desktop"
echo "ok: desktop-file-validate quantscope.desktop"

metainfo=$dir/io.github.quantscope.QuantScope.metainfo.xml
appstreamcli validate --no-net --explain "$metainfo" || fail "appstreamcli validate $metainfo"
newest=$(xmllint --xpath 'string(/component/releases/release[1]/@version)' "$metainfo")
[[ $newest == "$version" ]] || fail "$metainfo: newest release is '$newest', the project is $version"
echo "ok: appstreamcli validate, newest release $newest"

mime=$dir/quantscope-mime.xml
xmllint --noout "$mime" || fail "xmllint $mime"
# update-mime-database compiles the package the way the installed system will; its glob and
# magic tables must then name the type.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
db=$root/mime
mkdir -p "$db/packages"
cp "$mime" "$db/packages/quantscope.xml"
log=$(XDG_DATA_DIRS=$root XDG_DATA_HOME=$root update-mime-database "$db" 2>&1) || fail "update-mime-database: $log"
[[ -z $log ]] || fail "update-mime-database: $log"
grep -qx '50:application/x-gguf:\*\.gguf' "$db/globs2" || fail "globs2 lacks *.gguf -> application/x-gguf"
grep -aq 'application/x-gguf' "$db/magic" || fail "magic lacks application/x-gguf"
grep -aq 'GGUF' "$db/magic" || fail "magic lacks the GGUF bytes"
grep -q 'MimeType=application/x-gguf;' "$dir/quantscope.desktop" || fail "the .desktop entry does not open application/x-gguf"
echo "ok: MIME package (glob *.gguf, magic GGUF at 0)"
