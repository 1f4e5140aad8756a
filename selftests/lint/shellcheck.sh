#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs shellcheck on every shell script of the project (by name or by shebang).
# .shellcheckrc at the top says which checks are off, and why.
. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lint/files.sh"

command -v shellcheck > /dev/null || sp_die "shellcheck is missing: run 'make deps'"
mapfile -t files < <(sp_shell_files)
ktap_header
ktap_plan ${#files[@]}
for f in "${files[@]}"; do
	shell=bash
	if head -n 1 "$SP_TOP/$f" | grep -q busybox; then
		shell="sh"
	fi
	if out=$(cd "$SP_TOP" && shellcheck -s "$shell" "$f" 2>&1); then
		ktap_ok "$f"
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		ktap_fail "$f"
	fi
done
ktap_finish
