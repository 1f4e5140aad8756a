#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: the kernel panics (sysrq c); the bench must
# report it and go on with the next test in a fresh guest.
echo "crashing the guest kernel"
sync
echo c > /proc/sysrq-trigger
sleep 30
