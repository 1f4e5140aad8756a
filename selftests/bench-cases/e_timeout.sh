#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: outlives its timeout (settings: 10 s).
echo "sleeping past the timeout"
sleep 600
