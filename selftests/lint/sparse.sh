#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse, with the kernel's own sparse flags, over every kernel source (make
# C=2 is make C=1 that also checks files that need no rebuild).
# Any sparse warning or error fails.
. "$SP_TOP/selftests/lib/ktap.sh"

command -v sparse > /dev/null || sp_die "sparse is missing: run 'make deps'"
kver=$("$SP_TOP/tools/bench/kver.sh") || sp_die "no kernel build tree"
kdir=/lib/modules/$kver/build
ktap_header
ktap_plan 2
for m in . selftests/bench-cases; do
	log=$(mktemp)
	make -C "$kdir" M="$SP_TOP/$m" C=2 modules > "$log" 2>&1
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
