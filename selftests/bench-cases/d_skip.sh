#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: skips (exit 4), which is not a pass.
. "$SP_TOP/selftests/lib/ktap.sh"
sp_skip "deliberate skip"
