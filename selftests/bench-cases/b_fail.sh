#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: one check fails, so the test must be reported failed.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 2
ktap_ok "first check"
ktap_fail "second check (deliberate)"
ktap_finish
