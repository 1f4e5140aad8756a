#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: the test passes and leaves a module loaded that
# WARNs when it is unloaded, which the bench's cleanup after the test does:
# the WARN is in the cleanup, and the bench must fail this test for it.
. "$SP_TOP/selftests/lib/ktap.sh"
ktap_header
ktap_plan 1
ktap_check "load the module, quietly, to WARN on unload" \
	modprobe sp_bench_warn warn_on_load=0 warn_on_exit=1
ktap_finish
