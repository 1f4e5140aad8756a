#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the live migration selftests (sourced, not run): those of
# the dm-slicepool tests, plus mig_field.
. "$SP_TOP/selftests/dm-slicepool/lib.sh"

# mig_field DMNAME FIELD: a field of the migration part of the status
# (names as in "Live migration" in Documentation/dm-slicepool.rst).
mig_field() {
	dmsetup status "$1" | awk -v f="$2" '{
		for (i = 1; i <= NF; i++) if ($i == "migration") break
		n = split("state mode range dest pass cursor planned remaining dirty writes_seen dirty_set filtered cleared copied recopied bytes rate hold error", k, " ")
		for (j = 1; j <= n; j++) if (k[j] == f) { print $(i + j); exit }
	}'
}
