#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: the kernel WARNs and the test clears the kernel log
# right after (dmesg -C), as some tests do before their own checks: the
# bench reads /dev/kmsg and must still report the failure.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 2
ktap_check "load the WARNing module" modprobe sp_bench_warn
dmesg -C
ktap_check "the log is empty after dmesg -C" sh -c '! dmesg | grep -q sp_bench_warn'
modprobe -r sp_bench_warn
ktap_finish
