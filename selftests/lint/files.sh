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
# CHECK's output as "# " lines; then the totals and the exit.  Two checks
# run at once (the host has two cores, and in make check the lint runs at
# nice 10 beside the guests, where its wall time is many times its CPU
# time: checkpatch took 392 s for 80 s of CPU); the results are printed
# in the files' order.
sp_lint_each() {
	local check=$1 f i=0 running=0 dir
	shift
	dir=$(mktemp -d) || sp_die "mktemp failed"
	ktap_header
	ktap_plan $#
	for f in "$@"; do
		(cd "$SP_TOP" && "$check" "$f" > "$dir/$i.out" 2>&1; echo $? > "$dir/$i.rc") &
		i=$((i + 1))
		running=$((running + 1))
		if [ $running -ge 2 ]; then
			wait -n
			running=$((running - 1))
		fi
	done
	wait
	i=0
	for f in "$@"; do
		if [ "$(cat "$dir/$i.rc" 2>/dev/null)" = 0 ]; then
			ktap_ok "$f"
		else
			sed 's/^/# /' "$dir/$i.out"
			ktap_fail "$f"
		fi
		i=$((i + 1))
	done
	rm -rf "$dir"
	ktap_finish
}
