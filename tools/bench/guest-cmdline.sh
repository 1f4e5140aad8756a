#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the guest's init (guest-init.sh) and its test runner
# (guest-runner.sh): P[sp_NAME]=VALUE for every sp_NAME=VALUE word of the
# kernel command line, which selftests/run writes.

# shellcheck disable=SC2034 # used by the scripts that source this
declare -A P
read -r -a cmdline < /proc/cmdline
for arg in "${cmdline[@]}"; do
	case "$arg" in
	sp_*=*) k=${arg%%=*}; P[$k]=${arg#*=} ;;
	esac
done
