#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse, with the kernel's own sparse flags, over every kernel source (make
# C=2 is make C=1 that also checks files that need no rebuild).
# Any sparse warning or error fails.  The build goes through the Makefile's
# own targets, with the build's flags and paths: after a build (as in make
# check) nothing is recompiled and only sparse runs; another command line
# would rebuild every object, here and again at the next make.
. "$SP_TOP/selftests/lib/ktap.sh"

command -v sparse > /dev/null || sp_die "sparse is missing: run 'make deps'"
kver=$("$SP_TOP/tools/bench/kver.sh") || sp_die "no kernel build tree"
kdir=/lib/modules/$kver/build
ktap_header
ktap_plan 2
for target in modules test-modules; do
	m=.
	[ "$target" = modules ] || m=selftests/bench-cases
	log=$(mktemp)
	make -C "$SP_TOP" -s C=2 "$target" > "$log" 2>&1
	rc=$?
	bad=$(grep -E '^/.*: (warning|error):' "$log" | grep -v "^$kdir\|/usr/src/linux-headers" )
	if [ $rc -eq 0 ] && [ -z "$bad" ]; then
		ktap_ok "sparse clean: $m"
	else
		echo "# build exit code $rc"
		sed 's/^/# /' "$log" | grep -E 'warning|error' | head -50
		ktap_fail "sparse: $m"
	fi
	rm -f "$log"
done
ktap_finish
