#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: the guest stops answering (its test runner is
# frozen), so only the host-side deadline can end it.
echo "freezing the guest test runner"
pkill -STOP -f guest-runner.sh
sleep 600
