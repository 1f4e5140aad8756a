#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the live migration selftests (sourced, not run): those of
# the dm-slicepool tests, plus mig_field (selftests/lib/migstatus.sh).
. "$SP_TOP/selftests/dm-slicepool/lib.sh"

. "$SP_TOP/selftests/lib/migstatus.sh"
