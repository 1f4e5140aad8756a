#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: one check passes and one is skipped.  That is not a
# plain pass: the bench must report a partial skip and count it skipped.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 2
ktap_ok "the check that ran"
ktap_skip "the check that could not run (deliberate)"
ktap_finish
