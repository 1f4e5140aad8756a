#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: every check passes and the kernel logs nothing bad,
# but the test leaves it newly tainted (flag U, which user space may set
# through /proc/sys/kernel/tainted): the bench must report a failure.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 1
ktap_check "set taint flag U" sh -c 'echo 64 > /proc/sys/kernel/tainted'
ktap_finish
