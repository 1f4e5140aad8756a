#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the lint tests: the project's own sources, as paths relative
# to the top, without generated or build files.  Only files git tracks or
# would track (so a clean clone and a work tree give the same list).

sp_c_files() {
	git -C "$SP_TOP" ls-files --cached --others --exclude-standard -- '*.c' '*.h' |
		grep -v -e '\.mod\.c$' -e 'compat-autoconf\.h$' | sort
}

sp_shell_files() {
	local f
	git -C "$SP_TOP" ls-files --cached --others --exclude-standard | sort |
	while read -r f; do
		[ -f "$SP_TOP/$f" ] || continue
		case "$f" in
		*.sh) echo "$f" ;;
		*) head -n 1 "$SP_TOP/$f" | grep -Eq '^#!.*/(ba|busybox )?sh' && echo "$f" ;;
		esac
	done
}

# sp_lint_each CHECK FILE...: the KTAP header and plan, then one check per
# file, named by it: ok when "CHECK FILE" (run at the top) succeeds, else
# CHECK's output as "# " lines; then the totals and the exit.
sp_lint_each() {
	local check=$1 f out
	shift
	ktap_header
	ktap_plan $#
	for f in "$@"; do
		if out=$(cd "$SP_TOP" && "$check" "$f" 2>&1); then
			ktap_ok "$f"
		else
			printf '%s\n' "$out" | sed 's/^/# /'
			ktap_fail "$f"
		fi
	done
	ktap_finish
}
