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
# checkpatch FILE: its output, and ok only when there is none.
cp_file() {
	local out rc
	out=$("$cp_dir/scripts/checkpatch.pl" --strict --no-tree \
		--quiet --no-summary --show-types -f "$1" 2>&1)
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	[ $rc -eq 0 ] && [ -z "$out" ]
}
sp_lint_each cp_file "${files[@]}"
