#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: runs after the crash, in a new guest, and passes.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 1
ktap_check "a fresh guest after the crash (boot id differs from the crashed one)" true
ktap_finish
