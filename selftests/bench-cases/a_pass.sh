#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: passes.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 1
ktap_check "true is true" true
ktap_finish
