#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs shellcheck on every shell script of the project (by name or by shebang).
# .shellcheckrc at the top says which checks are off, and why.
. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lint/files.sh"

command -v shellcheck > /dev/null || sp_die "shellcheck is missing: run 'make deps'"
mapfile -t files < <(sp_shell_files)
# sc_file FILE: shellcheck, as sh for a busybox script, else as bash.
sc_file() {
	local shell=bash
	if head -n 1 "$1" | grep -q busybox; then
		shell="sh"
	fi
	shellcheck -s "$shell" "$1"
}
sp_lint_each sc_file "${files[@]}"
