#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict --no-tree -f on every C file and header.  The
# script comes from Debian's linux-source tarball, extracted on demand.
. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lint/files.sh"

tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.*' | sort -V | tail -n 1)
[ -n "$tarball" ] || sp_die "no /usr/src/linux-source-*.tar.*: run 'make deps'"
cp_dir=$SP_TOP/build/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ] || [ "$tarball" -nt "$cp_dir/scripts/checkpatch.pl" ]; then
	rm -rf "$cp_dir"
	mkdir -p "$cp_dir"
	top=$(tar tf "$tarball" | head -n 1 | cut -d/ -f1)
	tar xf "$tarball" -C "$cp_dir" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" ||
		sp_die "cannot extract checkpatch from $tarball"
fi

mapfile -t files < <(sp_c_files)
cp_run() {
	"$cp_dir/scripts/checkpatch.pl" --strict --no-tree \
		--quiet --no-summary --show-types -f "$@" 2>&1
}
# checkpatch FILE: its output, and ok only when there is none.
cp_file() {
	local out rc
	out=$(cp_run "$1")
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	[ $rc -eq 0 ] && [ -z "$out" ]
}
# All the files in two checkpatch runs (one per core) first: its start
# (compiling its patterns, reading spelling.txt) costs more than checking
# a file, so one run per file spent 95 CPU-s where this spends 50.
# checkpatch resets its per-file state between files; what it carries over
# (the CamelCase words seen) only keeps a repeated report from showing
# again, so all clean means each file clean, and each file gets its ok.
# Anything else: every file on its own, as before, for each file's report.
half=$(((${#files[@]} + 1) / 2))
dir=$(mktemp -d) || sp_die "mktemp failed"
(cd "$SP_TOP" && cp_run "${files[@]:0:half}" > "$dir/1" 2>&1; echo $? > "$dir/1.rc") &
(cd "$SP_TOP" && cp_run "${files[@]:half}" > "$dir/2" 2>&1; echo $? > "$dir/2.rc") &
wait
if [ "$(cat "$dir/1.rc" "$dir/2.rc")" = $'0\n0' ] && [ ! -s "$dir/1" ] && [ ! -s "$dir/2" ]; then
	rm -rf "$dir"
	ktap_header
	ktap_plan ${#files[@]}
	for f in "${files[@]}"; do ktap_ok "$f"; done
	ktap_finish
fi
rm -rf "$dir"
sp_lint_each cp_file "${files[@]}"
