#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mig_field DMNAME FIELD: a field of the migration part of a slicepool
# table's status, read without the tool (names as in "Live migration" in
# Documentation/dm-slicepool.rst).  Sourced by the migration and CLI tests.
mig_field() {
	dmsetup status "$1" | awk -v f="$2" '{
		for (i = 1; i <= NF; i++) if ($i == "migration") break
		n = split("state mode range dest pass cursor planned remaining dirty writes_seen dirty_set filtered cleared copied recopied bytes rate hold error mirror mirrored busy_share paced_ms", k, " ")
		for (j = 1; j <= n; j++) if (k[j] == f) { print $(i + j); exit }
	}'
}
