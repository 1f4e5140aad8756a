#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the forced-activation tests (md3_force.sh,
# md3_force_cleanup.sh; sourced, not run): configfs writes that report
# the errno, and refusals checked with their log line.  The caller sets
# P (the pool's name) and C (its configfs directory) and sources
# selftests/lib/kmsg.sh.

# werr FILE VALUE: write VALUE to FILE in one write() (bash's printf, no
# program: they are slow under TCG); print OK or the errno's name.
werr() {
	local e
	e=$( { printf '%s' "$2" > "$1"; } 2>&1 ) && { echo OK; return; }
	case $e in
	*": Invalid argument") echo EINVAL ;;
	*": Device or resource busy") echo EBUSY ;;
	*": Read-only file system") echo EROFS ;;
	*": Input/output error") echo EIO ;;
	*": File exists") echo EEXIST ;;
	*) echo "other ($e)" ;;
	esac
}

# logged ERE: a line of LOG (the kernel log since a mark, read once per
# action: reading it costs several programs) matches ERE.
LOG=
logged() {
	grep -Eq -- "$1" <<< "$LOG"
}

# take_log: LOG becomes the kernel log since the last kmsg_mark.
take_log() {
	LOG=$(kmsg_since)
}

# refused WHAT FILE VALUE ERRNO ERE: writing VALUE is refused with ERRNO
# and a line matching ERE is logged (two checks).
refused() {
	local r
	kmsg_mark
	r=$(werr "$2" "$3")
	take_log
	ktap_check "$1: refused with $4 (got $r)" [ "$r" = "$4" ]
	ktap_check "$1: the log line says why" logged "$5"
}

# new_pool: pool $P (metadata format 3) with 1 MiB slices, no member.
new_pool() {
	sp_pool "$P" 1
}
