#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: every check passes, but the kernel WARNs (a test
# module that WARNs on load): the bench must report a failure.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 1
ktap_check "load the WARNing module" modprobe sp_bench_warn
modprobe -r sp_bench_warn
ktap_finish
