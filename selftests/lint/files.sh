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
