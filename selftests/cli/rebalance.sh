#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool rebalance against the real module, on metadata format 2
# (rebalance_md3.sh: format 3): the scenario of rebalance_lib.sh.
. "$(dirname "$0")/rebalance_lib.sh"
rebalance_run 2
